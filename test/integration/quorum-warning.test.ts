// A quorum the approvers can't reach for a request one of them makes: config.ts refuses it when only users
// are listed; with approver groups only Slack knows, so the bot asks at start and warns (it still starts).
import { FakeSlack } from '../../sandbox/fake-slack';
import { type Sandbox, startSandbox } from '../../sandbox/harness';

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
    await slack.waitFor(() => slack.callsTo('usergroups.users.list').length > 0);
    await new Promise((resolve) => setTimeout(resolve, 50));
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
