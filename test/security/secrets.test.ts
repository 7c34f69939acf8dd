// docs/DESIGN.md §7: no token or signing secret in any Slack message, log line, error text or HTTP answer.
// The main scenarios run (success, failures, refusals, attacks), then EVERY captured output is scanned.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SANDBOX_SECRETS, type Sandbox, startSandbox } from '../../sandbox/harness';
import { signSlackRequest } from '../../sandbox/slack-sender';
import { loadConfig } from '../../src/config';
import { ACTION_APPROVE, ACTION_CANCEL, ACTION_DENY, VIEW_DENY_REASON } from '../../src/constants';
import { APPROVER, APPROVER2, OUTSIDER, REQUESTER, requestDeletion, settle, watchListeners } from '../helpers/flow';
import { buildBot } from '../helpers/processes';
import { freshCustomerId, postInPieces, recordAnswers } from './support';

const { SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET, BOTPENGUIN_API_TOKEN } = SANDBOX_SECRETS;
const SECRETS = [SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET, BOTPENGUIN_API_TOKEN];
/** Every sandbox secret contains this; finding it catches a secret cut short, not only a whole one. */
const MARKER = '-SECRET-';

function expectNoSecret(where: string, text: string): void {
  for (const secret of [...SECRETS, MARKER]) {
    if (
      text.includes(secret) ||
      text.includes(encodeURIComponent(secret)) ||
      text.includes(Buffer.from(secret).toString('base64'))
    ) {
      throw new Error(`a secret (${secret.slice(0, 6)}…) appears in ${where}: ${text.slice(0, 500)}`);
    }
  }
}

describe('no secret in any output of the main scenarios', () => {
  let sb: Sandbox;
  let answers: ReturnType<typeof recordAnswers>;
  beforeAll(async () => {
    sb = watchListeners(await startSandbox()); // LOG_LEVEL=debug: Bolt logs every Web API request, headers included
    answers = recordAnswers(sb);

    // The happy path, with the customer preview.
    const happy = freshCustomerId();
    sb.botpenguin.addCustomer(happy, 'Acme', 'ops@acme.test');
    const ok = await requestDeletion(sb, happy, 'closing the account');
    await sb.sender.click(APPROVER, ACTION_APPROVE, ok.requestId, { messageTs: ok.message.ts });
    await sb.botpenguin.waitFor(() => sb.botpenguin.deletes().length === 1);

    // BotPenguin refusing, and echoing our own token (and its header) back in its message.
    sb.botpenguin.answerNext('DELETE', {
      status: 401,
      body: {
        success: false,
        message: `invalid token ${BOTPENGUIN_API_TOKEN} (Authorization: Bearer ${BOTPENGUIN_API_TOKEN})`,
      },
    });
    const echoed = await requestDeletion(sb, freshCustomerId(), 'echo');
    await sb.sender.click(APPROVER, ACTION_APPROVE, echoed.requestId);
    await sb.botpenguin.waitFor(() => sb.botpenguin.deletes().length === 2);

    // A 500 that is retried, then success:false with the token in the message.
    sb.botpenguin.answerNext('DELETE', {
      status: 500,
      body: { success: false, message: `boom ${BOTPENGUIN_API_TOKEN}` },
    });
    sb.botpenguin.answerNext('DELETE', {
      status: 200,
      body: { success: false, message: `no: ${BOTPENGUIN_API_TOKEN}` },
    });
    const retried = await requestDeletion(sb, freshCustomerId(), 'retry');
    await sb.sender.click(APPROVER, ACTION_APPROVE, retried.requestId);
    await sb.botpenguin.waitFor(() => sb.botpenguin.deletes().length === 4, 10_000);

    // Slack refusing calls with errors that echo secrets (its error text reaches our warnings), and the preview failing.
    sb.slack.failNext('chat.postEphemeral', { status: 200, error: `invalid_auth:${SLACK_BOT_TOKEN}` });
    sb.slack.failNext('chat.getPermalink', {
      status: 200,
      error: `bad:${SLACK_SIGNING_SECRET}:${BOTPENGUIN_API_TOKEN}`,
    });
    sb.botpenguin.answerNext('GET', {
      status: 403,
      body: { success: false, message: `bad key ${BOTPENGUIN_API_TOKEN}` },
    });
    const refused = await requestDeletion(sb, freshCustomerId(), 'refusals', APPROVER);
    await sb.sender.click(APPROVER, ACTION_APPROVE, refused.requestId); // self-approval, told via response_url
    await sb.sender.click(OUTSIDER, ACTION_APPROVE, refused.requestId);
    await sb.sender.click(OUTSIDER, ACTION_CANCEL, refused.requestId);
    await sb.sender.click(APPROVER2, ACTION_DENY, refused.requestId);
    await sb.slack.waitFor(() => sb.slack.views.length > 0, 5000, 'the deny modal');
    const view = sb.slack.views[0] as { private_metadata: string };
    await sb.sender.viewSubmission(
      APPROVER2,
      { callback_id: VIEW_DENY_REASON, private_metadata: view.private_metadata },
      { deny_reason: { reason: { type: 'plain_text_input', value: 'wrong customer <!channel>' } } },
    );

    // Commands: help, list, status, an invalid id, a request with a secret pasted in the reason.
    for (const text of ['help', 'list', `status ${ok.requestId}`, 'status nothing', 'not-an-id because', '']) {
      await sb.sender.command(REQUESTER, text);
    }

    // Attacks: no signature, a wrong one, an old one, a null payload, a huge body.
    const body = sb.sender.commandBody(REQUESTER, `${freshCustomerId()} forged`);
    await sb.sender.raw(body, {});
    await sb.sender.raw(body, { 'x-slack-request-timestamp': '1', 'x-slack-signature': 'v0=00' });
    await sb.sender.raw(body, signSlackRequest(SLACK_SIGNING_SECRET, body, Math.floor(Date.now() / 1000) - 600));
    await sb.sender.signed(new URLSearchParams({ payload: 'null' }).toString());
    const huge = sb.sender.commandBody(REQUESTER, 'x'.repeat(600_000));
    await postInPieces(sb.port, Buffer.from(huge), signSlackRequest(SLACK_SIGNING_SECRET, huge));
    // Every answer is in, but a click's listener runs on after its answer: wait for the ones still running.
    await settle(sb);
  }, 30_000);
  afterAll(async () => {
    await sb.stop({ fakes: true });
  });

  it('the scenarios really ran (so the scan below means something)', () => {
    expect(sb.botpenguin.deletes()).toHaveLength(4);
    expect(sb.logs.length).toBeGreaterThan(50);
    expect(sb.slack.callsTo('response_url').length).toBeGreaterThan(0);
    expect(answers.map((a) => a.status)).toEqual(expect.arrayContaining([200, 400, 401]));
    expect(sb.logs.join('')).toContain('[redacted]');
  });

  it('no log line holds a secret', () => {
    for (const line of sb.logs) expectNoSecret('a log line', line);
  });

  it('no Slack Web API call or response_url post holds a secret outside the Authorization header', () => {
    for (const call of sb.slack.calls) expectNoSecret(`${call.method} args`, JSON.stringify(call.args));
    expectNoSecret('an opened modal', JSON.stringify(sb.slack.views));
  });

  it('the bot token goes only to the Slack Web API, and never to a response_url (which comes from the payload)', () => {
    for (const call of sb.slack.calls) {
      if (call.method === 'response_url') expect(call.authorization).toBeUndefined();
      else expect(call.authorization).toBe(`Bearer ${SLACK_BOT_TOKEN}`);
    }
  });

  it('no HTTP answer of the bot holds a secret', () => {
    for (const answer of answers) expectNoSecret(`an HTTP ${answer.status} answer`, answer.text);
  });

  it('BotPenguin gets its own token in the Authorization header and nothing secret anywhere else', () => {
    for (const call of sb.botpenguin.calls) {
      const { authorization, ...headers } = call.headers;
      expect(authorization).toBe(`Bearer ${BOTPENGUIN_API_TOKEN}`);
      expectNoSecret('a BotPenguin call', `${call.method} ${call.path} ${JSON.stringify(headers)}`);
    }
  });

  it('logs are JSON lines; the lines about a request carry its id, the people and the state', () => {
    const lines = sb.logs.map((line) => JSON.parse(line) as Record<string, unknown>);
    for (const line of lines)
      expect(line).toEqual(
        expect.objectContaining({ time: expect.any(String), level: expect.any(String), msg: expect.any(String) }),
      );
    expect(lines.find((l) => l.msg === 'request created')).toEqual(
      expect.objectContaining({
        requestId: expect.stringMatching(/^R[0-9A-Z]{9}$/),
        requesterId: REQUESTER,
        channelId: expect.any(String),
        state: 'pending',
      }),
    );
    expect(lines.find((l) => l.msg === 'approval recorded')).toEqual(
      expect.objectContaining({ requestId: expect.any(String), approverId: APPROVER, state: 'approved' }),
    );
    expect(lines.find((l) => l.msg === 'click refused')).toEqual(
      expect.objectContaining({ userId: expect.any(String), reason: expect.any(String) }),
    );
  });
});

describe('bad configuration at startup names the problems and never a secret', () => {
  const BAD = {
    SLACK_BOT_TOKEN: `xoxp${SLACK_BOT_TOKEN.slice(4)}`,
    SLACK_SIGNING_SECRET: SLACK_SIGNING_SECRET,
    SLACK_APP_TOKEN: `xoxb-not-an-app-token${MARKER}app`,
    BOTPENGUIN_API_TOKEN: `${BOTPENGUIN_API_TOKEN} with spaces`,
    DATABASE_URL: `mysql://bot:pw${MARKER}db@db.internal/bp`,
    APPROVER_USER_IDS: `U0OK,${MARKER}`,
    CUSTOMER_ID_PATTERN: `(${MARKER}`,
  };

  it('loadConfig lists every problem by variable name, with no value in any message', () => {
    const loaded = loadConfig(BAD);
    if (loaded.ok) throw new Error('bad configuration was accepted');
    const text = loaded.errors.join('\n');
    for (const name of [
      'SLACK_BOT_TOKEN',
      'SLACK_APP_TOKEN',
      'BOTPENGUIN_API_TOKEN',
      'DATABASE_URL',
      'APPROVER_USER_IDS',
      'CUSTOMER_ID_PATTERN',
    ]) {
      expect(text).toContain(name);
    }
    expectNoSecret('the configuration errors', text);
  });

  it('the real entry point exits non-zero before listening, printing the problems and no secret', async () => {
    const main = buildBot();
    const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'bp-delete-badconfig-')); // no .env to pick up
    const child = spawn(process.execPath, [main], {
      cwd,
      env: { PATH: process.env.PATH ?? '', ...BAD },
      stdio: 'pipe',
    });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code).toBe(1);
    expect(out).toMatch(/the configuration has \d+ problem/);
    expect(out).toContain('SLACK_BOT_TOKEN');
    expectNoSecret('the startup output', out);
  }, 20_000);
});
