// What the reproductions of issue 16 share: the words people read about a request, the signed view_closed
// Slack sends for a modal opened with notify_on_close, and the audit export run in-process on a sandbox's store.
import { Writable } from 'node:stream';
import type { FakeSlack, SlackMessage } from '../../../sandbox/fake-slack';
import { SANDBOX_CHANNEL, SANDBOX_TEAM, type Sandbox } from '../../../sandbox/harness';
import { runAudit } from '../../../src/audit';
import { csvObjects } from '../../helpers/csv';
import { messageText } from '../../helpers/flow';

/** The message's blocks, its top-level text and every reply in its thread: all a channel reads about it. */
export function everythingSaid(slack: FakeSlack, message: SlackMessage): string {
  const thread = slack.thread(SANDBOX_CHANNEL, message.ts).map((m) => m.text);
  return [messageText(message), message.text, ...thread].join('\n');
}

/** A modal as the fake Slack recorded it from views.open. */
export interface OpenedView {
  callback_id: string;
  private_metadata: string;
  notify_on_close?: boolean;
}

/** What Slack sends when someone closes a modal (Cancel, the ✕, Esc) that was opened with notify_on_close. */
export function closeView(sb: Sandbox, user: string, view: OpenedView) {
  return sb.sender.signedPayload({
    type: 'view_closed',
    team: { id: SANDBOX_TEAM, domain: 'example' },
    user: { id: user, username: user.toLowerCase(), name: user.toLowerCase(), team_id: SANDBOX_TEAM },
    api_app_id: 'A0BPDELETE',
    token: 'deprecated-verification-token',
    view: {
      id: 'V0DENY',
      team_id: SANDBOX_TEAM,
      app_id: 'A0BPDELETE',
      app_installed_team_id: SANDBOX_TEAM,
      bot_id: 'B0BPDELETE',
      type: 'modal',
      callback_id: view.callback_id,
      private_metadata: view.private_metadata,
      state: { values: {} },
      hash: 'h',
      title: { type: 'plain_text', text: 'Deny deletion' },
      blocks: [],
    },
    is_cleared: false,
  });
}

/** `npm run audit -- --since 2000-01-01` on the sandbox's SQLite file, as CSV records keyed by the header. */
export async function auditRows(sb: Sandbox): Promise<Record<string, string>[]> {
  let out = '';
  let err = '';
  const sink = (write: (text: string) => void) =>
    new Writable({
      write(chunk, _encoding, done) {
        write(String(chunk));
        done();
      },
    });
  const code = await runAudit(['--since', '2000-01-01', '--format', 'csv'], {
    env: { SQLITE_PATH: sb.sqlitePath },
    stdout: sink((t) => {
      out += t;
    }),
    stderr: sink((t) => {
      err += t;
    }),
  });
  if (code !== 0) throw new Error(`the audit export exited ${code}: ${err}`);
  return csvObjects(out);
}

/** A clock the test moves by hand: the bot and its SQLite store read it, so settle windows pass without sleeping. */
export function handClock(start = Date.now()) {
  let at = start;
  return {
    now: () => at,
    advance(ms: number) {
      at += ms;
    },
  };
}
