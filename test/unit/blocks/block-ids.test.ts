// Slack's Block Kit reference (and @slack/types' Block.block_id): "block_id should be unique for each
// message and each iteration of a message. If a message is updated, use a new block_id."
import { renderRequestMessage } from '../../../src/blocks/request-message';
import type { DeletionRequest } from '../../../src/requests/types';
import { aRequest } from '../../helpers/fixtures';

const NOW = Date.UTC(2025, 0, 15, 12, 0, 0);
const idsOf = (r: DeletionRequest) =>
  renderRequestMessage(r, NOW).blocks.map((b) => (b as { block_id?: string }).block_id ?? '');

/** The versions a request goes through, as the message shows them. */
const VERSIONS: DeletionRequest[] = [
  aRequest(NOW - 1000, { version: 1 }),
  aRequest(NOW - 1000, { version: 2, approvalsRequired: 2, approvals: [{ userId: 'U0APPROVER1', at: NOW }] }),
  aRequest(NOW - 1000, { version: 3, state: 'approved', executeAt: NOW + 60_000 }),
  aRequest(NOW - 1000, { version: 4, state: 'executing', executeAt: NOW }),
  aRequest(NOW - 1000, {
    version: 5,
    state: 'succeeded',
    outcome: { ok: true, kind: 'deleted', said: 'botpenguin', message: 'ok', httpStatus: 200 },
    finishedAt: NOW,
  }),
];

describe('every version of the message uses fresh block ids', () => {
  it('ids are unique within each message, non-empty and at most 255 characters', () => {
    for (const r of VERSIONS) {
      const ids = idsOf(r);
      expect(new Set(ids).size).toBe(ids.length);
      for (const id of ids) {
        expect(id.length).toBeGreaterThan(0);
        expect(id.length).toBeLessThanOrEqual(255);
      }
    }
  });

  it('two renders of different versions share no block id', () => {
    for (const [i, a] of VERSIONS.entries()) {
      for (const b of VERSIONS.slice(i + 1)) {
        const shared = idsOf(a).filter((id) => idsOf(b).includes(id));
        expect(shared).toEqual([]);
      }
    }
  });

  it('the same version of the same state renders the same ids (a retried update is the same message)', () => {
    const r = VERSIONS[1] as DeletionRequest;
    expect(idsOf(r)).toEqual(idsOf({ ...r }));
  });

  it('the ids carry the version, e.g. the buttons of version 7 are in decide.v7', () => {
    expect(idsOf(aRequest(NOW - 1000, { version: 7 }))).toContain('decide.v7');
  });
});
