// Message permalinks (chat.getPermalink), cached forever (a message's link never changes) and bounded
// in time, because they are asked for on the way to a 3-second answer.
import type { webApi } from '@slack/bolt';

export class Permalinks {
  private readonly cache = new Map<string, string>();

  constructor(
    private readonly client: webApi.WebClient,
    private readonly timeoutMs: number,
  ) {}

  async get(channelId: string, ts: string | null): Promise<string | null> {
    if (!ts) return null;
    const key = `${channelId}/${ts}`;
    const hit = this.cache.get(key);
    if (hit) return hit;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<null>((resolve) => {
      timer = setTimeout(() => resolve(null), this.timeoutMs);
    });
    const lookup = this.client.chat
      .getPermalink({ channel: channelId, message_ts: ts })
      .then((r) => (typeof r.permalink === 'string' ? r.permalink : null))
      .catch(() => null);
    const link = await Promise.race([lookup, timeout]);
    clearTimeout(timer);
    if (link) {
      if (this.cache.size > 5000) this.cache.clear();
      this.cache.set(key, link);
    }
    return link;
  }
}
