// A quorum the approvers can't reach for a request one of them makes: config.ts refuses it when only users
// are listed; with approver groups only Slack knows, so the bot asks at start and warns (it still starts).
import { FakeSlack } from '../../sandbox/fake-slack';
import { type Sandbox, startSandbox } from '../../sandbox/harness';
import { until } from '../helpers/flow';

const WARNING = 'too few approvers: a request made by an approver can never reach APPROVALS_REQUIRED';

describe('at start, the bot warns when the approver groups are too small for the quorum', () => {
  let sb: Sandbox | undefined;
  afterEach(async () => {
    await sb?.stop({ fakes: true });
    sb = undefined;
  });

  async function startWith(members: string[], approvalsRequired: string): Promise<Sandbox> {
    const slack = new FakeSlack();
    await slack.start();
    slack.usergroups.set('S0OPSLEADS', members);
    sb = await startSandbox({
      slack,
      env: { APPROVER_USER_IDS: '', APPROVER_USERGROUP_IDS: 'S0OPSLEADS', APPROVALS_REQUIRED: approvalsRequired },
    });
    // The check at start is not awaited by anything the test can hold: wait for its one Slack call to return
    // (the Web API client logs that at debug). What follows is the answer's parsing and the warning, with no
    // I/O in between, so it is done before the next turn of the event loop; the first test shows it is.
    const { logs } = sb;
    await until(() => logs.some((l) => l.includes("apiCall('usergroups.users.list') end")), 'the check at start');
    return sb;
  }

  it('one group member and a quorum of 1: a request that member makes could never be approved', async () => {
    const started = await startWith(['ULEAD1'], '1');
    const warning = started.logs.map((l) => JSON.parse(l)).find((l) => l.msg === WARNING);
    expect(warning).toMatchObject({ level: 'warn', approvers: 1, needed: 2 });
  });

  it('three members and a quorum of 2: no warning', async () => {
    const started = await startWith(['ULEAD1', 'ULEAD2', 'ULEAD3'], '2');
    expect(started.logs.join('\n')).not.toContain(WARNING);
  });
});
