// Issue 16, defect 3: an instance started with DRY_RUN=true that takes over a real DELETE in flight never says no
// DELETE was sent. A real bot process is killed (SIGKILL) while its DELETE is in flight (BotPenguin deletes the
// customer, but answers too late); the operator restarts it with DRY_RUN=true. Whatever its own setting, the new
// process must not report "no DELETE was sent" for a request with a recorded start, nor send one itself.
import fs from 'node:fs';
import type { FakeBotPenguin } from '../../../sandbox/fake-botpenguin';
import type { FakeSlack } from '../../../sandbox/fake-slack';
import { tempSqlitePath } from '../../../sandbox/harness';
import { ACTION_APPROVE } from '../../../src/constants';
import { SqliteStore } from '../../../src/store/dialects/sqlite';
import { APPROVER, ackText, CUSTOMER } from '../../helpers/flow';
import {
  botEnv,
  buildTestBot,
  eventually,
  requestThrough,
  startBot,
  startFakes,
  stopFakes,
} from '../../helpers/processes';
import { everythingSaid } from './support';

jest.setTimeout(45_000);

let main: string;
let slack: FakeSlack;
let botpenguin: FakeBotPenguin;
let sqlitePath: string;

beforeAll(() => {
  main = buildTestBot();
});
beforeEach(async () => {
  ({ slack, botpenguin } = await startFakes());
  sqlitePath = tempSqlitePath();
});
afterEach(async () => {
  await stopFakes({ slack, botpenguin });
  fs.rmSync(sqlitePath.replace(/\/[^/]+$/, ''), { recursive: true, force: true });
});

/** The request as the store has it, read from the file once every process is gone. */
async function stored(requestId: string) {
  const store = new SqliteStore(sqlitePath);
  try {
    return await store.getRequest(requestId);
  } finally {
    await store.close();
  }
}

describe('a DRY_RUN restart that takes over a real DELETE in flight', () => {
  // Defect 3: the dry-run instance takes it over and records "DRY RUN finished … no DELETE was re-sent".
  it('never says no DELETE was sent, and sends none itself', async () => {
    const env = botEnv(slack, botpenguin, { SQLITE_PATH: sqlitePath });
    const first = await startBot(main, env, slack);
    const { requestId, message } = await requestThrough(first, slack, CUSTOMER);
    botpenguin.latencyMs = 1_000; // BotPenguin deletes the customer, but answers too late for this process
    await first.sender.click(APPROVER, ACTION_APPROVE, requestId);
    await botpenguin.waitFor(() => botpenguin.deletes().length === 1, 5_000, 'the DELETE');
    first.child.kill('SIGKILL');
    expect(await first.exited).toEqual({ code: null, signal: 'SIGKILL' });
    await eventually(() => botpenguin.customers.length === 0, 5_000, 'BotPenguin to finish the DELETE');
    botpenguin.latencyMs = 0;

    const second = await startBot(main, { ...env, DRY_RUN: 'true' }, slack);
    // Taken over after the lease (1 s) and decided: `status` no longer says approved or executing.
    let status = '';
    const decided = async () => {
      status = ackText((await second.sender.command(APPROVER, `status ${requestId}`)).json);
      return !/\*(approved|executing)\*/.test(status);
    };
    await eventually(decided, 10_000, 'the take-over');
    await slack.waitFor(() => !/Status: (Approved|Deleting now)/.test(message.text), 5_000, 'the message to catch up');
    expect(await second.stop()).toEqual({ code: 0, signal: null });

    expect(botpenguin.deletes()).toHaveLength(1);
    const said = [everythingSaid(slack, message), status].join('\n');
    expect(said).not.toMatch(/no DELETE was (re-)?sent/i);
    expect(said).not.toMatch(/DRY RUN finished/);
    const request = await stored(requestId);
    expect(request?.outcome?.kind).not.toBe('dry_run');
    // The DELETE may have gone through: uncertain until proof, or deleted once BotPenguin no longer lists it.
    expect(['uncertain', 'succeeded']).toContain(request?.state);
  });
});
