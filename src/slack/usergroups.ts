// User group membership from Slack (usergroups.users.list), cached briefly so that someone removed
// from a group loses the right within a minute. A failed lookup rejects: callers fail closed.
import type { webApi } from '@slack/bolt';
import { z } from 'zod';
import type { Directory } from '../requests/ports';

const UsersListResponse = z.object({ ok: z.literal(true), users: z.array(z.string()) });

export class SlackUsergroupDirectory implements Directory {
  private readonly cache = new Map<string, { members: ReadonlySet<string>; until: number }>();
  private readonly inflight = new Map<string, Promise<ReadonlySet<string>>>();

  constructor(
    private readonly client: webApi.WebClient,
    private readonly options: { ttlMs: number; now: () => number; timeoutMs: number },
  ) {}

  async usergroupMembers(groupId: string): Promise<ReadonlySet<string>> {
    const hit = this.cache.get(groupId);
    if (hit && hit.until > this.options.now()) return hit.members;
    let pending = this.inflight.get(groupId);
    if (!pending) {
      pending = this.fetch(groupId).finally(() => this.inflight.delete(groupId));
      this.inflight.set(groupId, pending);
    }
    return pending;
  }

  private async fetch(groupId: string): Promise<ReadonlySet<string>> {
    // Bounded: a slash command waits for this before its 3-second answer; a slow Slack means "unknown".
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('usergroups.users.list timed out')), this.options.timeoutMs);
    });
    const answer = await Promise.race([this.client.usergroups.users.list({ usergroup: groupId }), timeout]).finally(
      () => clearTimeout(timer),
    );
    const response = UsersListResponse.parse(answer);
    const members = new Set(response.users);
    this.cache.set(groupId, { members, until: this.options.now() + this.options.ttlMs });
    return members;
  }
}
