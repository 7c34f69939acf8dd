// docs/DESIGN.md §4: the HTTP answer to every slash command and click arrives within 3 seconds, whatever
// BotPenguin or the Slack Web API are doing. (The 3-second Slack limit is the only timing asserted.)
import { type Sandbox, startSandbox } from '../../sandbox/harness';
import { ACTION_APPROVE } from '../../src/constants';
import { APPROVER, ackText, CUSTOMER, REQUESTER, requestDeletion, settle } from '../helpers/flow';

const SLACK_LIMIT_MS = 3000;

describe('answers within Slack’s 3 seconds', () => {
  let sb: Sandbox;
  afterEach(() => sb.stop({ fakes: true }));

  it('a command waiting on three slow requester groups still answers in time, refusing to be safe', async () => {
    sb = await startSandbox({ env: { REQUESTER_USERGROUP_IDS: 'S0GROUPA,S0GROUPB,S0GROUPC' } });
    sb.slack.failNext('usergroups.users.list', { status: 200, error: 'internal_error', delayMs: 6000 }, 3);
    const res = await sb.sender.command(REQUESTER, `${CUSTOMER} slow slack`);
    expect(res.status).toBe(200);
    expect(res.ms).toBeLessThan(SLACK_LIMIT_MS);
    expect(ackText(res.json)).toMatch(/could not tell me who is in the allowed user groups/);
  });

  it('a command for a customer with an open request answers in time when chat.getPermalink hangs', async () => {
    sb = await startSandbox();
    await requestDeletion(sb);
    sb.slack.failNext('chat.getPermalink', { status: 200, error: 'internal_error', delayMs: 6000 });
    const res = await sb.sender.command(REQUESTER, `${CUSTOMER} again`);
    expect(res.ms).toBeLessThan(SLACK_LIMIT_MS);
    expect(ackText(res.json)).toMatch(/already has an open request/);
  });

  it('a command and an approve click answer in time while BotPenguin takes 5 seconds per call', async () => {
    sb = await startSandbox({ env: { BOTPENGUIN_TIMEOUT_MS: '8000' } });
    sb.botpenguin.addCustomer(CUSTOMER);
    sb.botpenguin.latencyMs = 5000;
    const started = await sb.sender.command(REQUESTER, `${CUSTOMER} slow botpenguin`);
    expect(started.ms).toBeLessThan(SLACK_LIMIT_MS);
    const { requestId } = await requestDeletion(sb, '64b7f0c2e4b0a1b2c3d4e5f7');
    const click = await sb.sender.click(APPROVER, ACTION_APPROVE, requestId);
    expect(click.status).toBe(200);
    expect(click.ms).toBeLessThan(SLACK_LIMIT_MS);
    sb.botpenguin.latencyMs = 0;
    await settle(sb);
  }, 40_000);
});

describe('probes: GET /healthz is liveness, GET /readyz is readiness', () => {
  it('with the store closed, /readyz answers 503 naming the store while /healthz answers 200', async () => {
    const sb = await startSandbox();
    try {
      const base = `http://127.0.0.1:${sb.port}`;
      expect((await fetch(`${base}/readyz`)).status).toBe(200);
      await sb.store.close();
      const ready = await fetch(`${base}/readyz`);
      expect(ready.status).toBe(503);
      expect(await ready.json()).toEqual({ ok: false, store: 'sqlite', failing: ['store'] });
      const live = await fetch(`${base}/healthz`);
      expect(live.status).toBe(200);
      expect(await live.json()).toEqual({ ok: true });
    } finally {
      await sb.stop({ fakes: true }).catch(() => undefined);
    }
  });

  it('the probes need no signature and answer only GET', async () => {
    const sb = await startSandbox();
    try {
      const res = await fetch(`http://127.0.0.1:${sb.port}/readyz`, { method: 'POST', body: '{}' });
      expect(res.status).toBe(404);
    } finally {
      await sb.stop({ fakes: true });
    }
  });
});
