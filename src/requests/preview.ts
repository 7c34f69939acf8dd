// Best-effort customer preview: BotPenguin has no get-by-id, so page through the customer list,
// bounded in pages and time, and cache what was found. Never throws.
import { createHash } from 'node:crypto';
import { Limiter } from '../limiter';
import type { CustomerLister, ListResult } from './ports';
import type { CustomerPreview } from './types';

export interface PreviewOptions {
  maxPages: number;
  budgetMs: number;
  cacheMs: number;
  now: () => number;
}

/** Previews looked up at once; the rest wait. Fresh checks before a DELETE never wait. */
const CONCURRENCY = 4;
/** How long a fetched list page is reused by other lookups. */
const PAGE_CACHE_MS = 15_000;

export class Previewer {
  private readonly cache = new Map<string, { preview: CustomerPreview; until: number }>();
  private readonly pages = new Map<number, { result: Promise<ListResult>; until: number }>();

  private readonly limiter: Limiter;

  constructor(
    private readonly lister: CustomerLister,
    private readonly options: PreviewOptions,
  ) {
    this.limiter = new Limiter(CONCURRENCY);
  }

  /** Look a customer up; `fresh` skips the cache (the check right before a DELETE). */
  async lookup(customerId: string, fresh = false): Promise<CustomerPreview> {
    const key = customerId.toLowerCase();
    const cached = this.cache.get(key);
    const now = this.options.now();
    if (!fresh && cached && cached.until > now) return cached.preview;
    // A burst of requests must not become hundreds of page walks at once (memory, and CPU the acks need).
    const preview = fresh ? await this.search(key, true) : await this.limiter.run(() => this.search(key, false));
    if (preview.status !== 'unavailable') {
      if (this.cache.size > 1000) this.cache.clear();
      this.cache.set(key, { preview, until: now + this.options.cacheMs });
    }
    return preview;
  }

  /**
   * One page of the customer list. Lookups share pages fetched in the last PAGE_CACHE_MS (and pages being
   * fetched), so a burst of requests walks the list once, not once per request. A fresh walk refetches.
   */
  private page(n: number, fresh: boolean): Promise<ListResult> {
    const now = this.options.now();
    const hit = this.pages.get(n);
    if (!fresh && hit && hit.until > now) return hit.result;
    const result = this.lister.listCustomers(n);
    const entry = { result, until: now + PAGE_CACHE_MS };
    this.pages.set(n, entry);
    void result.then((r) => {
      if (!r.ok && this.pages.get(n) === entry) this.pages.delete(n);
    });
    return result;
  }

  private async search(key: string, fresh: boolean): Promise<CustomerPreview> {
    const unavailable = (): CustomerPreview => ({ status: 'unavailable', checkedAt: this.options.now() });
    let timer: NodeJS.Timeout | undefined;
    const budget = new Promise<null>((resolve) => {
      timer = setTimeout(() => resolve(null), this.options.budgetMs);
    });
    try {
      let page = 1;
      for (; page <= this.options.maxPages; page++) {
        const result = await Promise.race([this.page(page, fresh), budget]);
        if (result === null || !result.ok) return unavailable();
        const hit = result.customers.find((c) => c.id.toLowerCase() === key);
        if (hit) {
          return {
            status: 'found',
            name: hit.name,
            email: hit.email,
            customerStatus: hit.status,
            pagesSearched: page,
            checkedAt: this.options.now(),
          };
        }
        if (result.customers.length === 0) break;
      }
      return {
        status: 'not_found',
        pagesSearched: Math.min(page, this.options.maxPages),
        checkedAt: this.options.now(),
      };
    } finally {
      clearTimeout(timer);
    }
  }
}

/** A hash of the name and email a request showed, for comparing after they are erased (never reversible to them). */
export function fingerprint(requestId: string, preview: CustomerPreview): string {
  return createHash('sha256')
    .update(JSON.stringify([requestId, preview.name ?? null, preview.email ?? null]))
    .digest('base64url');
}

/**
 * The preview a request keeps while its DELETE is under way: no name or email, only their fingerprint.
 * Null when there is nothing to erase.
 */
export function erasedBeforeDelete(requestId: string, shown: CustomerPreview | null): CustomerPreview | null {
  if (shown?.status !== 'found') return null;
  return { status: 'erased', fingerprint: fingerprint(requestId, shown) };
}

/** True when a customer shown before (or its fingerprint) was found again with another name or email. */
export function customerChanged(requestId: string, before: CustomerPreview | null, now: CustomerPreview): boolean {
  if (now.status !== 'found') return false;
  if (before?.status === 'found') {
    return (before.name ?? null) !== (now.name ?? null) || (before.email ?? null) !== (now.email ?? null);
  }
  if (before?.status === 'erased' && before.fingerprint) return before.fingerprint !== fingerprint(requestId, now);
  return false;
}
