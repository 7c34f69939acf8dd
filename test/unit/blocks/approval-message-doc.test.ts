// docs/approval-message.blocks.json is the example of the approval message that DESIGN.md and the README
// point to (to paste into Slack's Block Kit Builder): it must be what the builder renders for its example.
import fs from 'node:fs';
import path from 'node:path';
import { renderRequestMessage } from '../../../src/blocks/request-message';
import { aRequest } from '../../helpers/fixtures';

const DOC = path.join(__dirname, '../../../docs/approval-message.blocks.json');

/** The example the document shows: a pending request with one of two approvals, at its third version. */
const EXPIRES = Date.UTC(2026, 10, 30, 14, 3);
const EXAMPLE = aRequest(EXPIRES - 86_400_000, {
  id: 'R7K2M9QXAB',
  customerId: '64b7f0c2e4b0a1b2c3d4e5f6',
  requesterId: 'U0ALICE',
  reason: 'Customer asked to close the account (ticket #4812)',
  approvalsRequired: 2,
  approvals: [{ userId: 'U0BOB', at: EXPIRES - 3_600_000 }],
  preview: { status: 'found', name: 'Acme Ltd', email: 'ops@acme.test', customerStatus: 'active', checkedAt: 0 },
  version: 3,
});

describe('docs/approval-message.blocks.json', () => {
  it('is exactly the blocks renderRequestMessage builds for its example', () => {
    const documented = JSON.parse(fs.readFileSync(DOC, 'utf8')) as { blocks: unknown[] };
    expect(documented).toEqual({ blocks: renderRequestMessage(EXAMPLE, EXPIRES - 60_000).blocks });
  });
});
