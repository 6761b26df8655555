/**
 * The Worker's classification cache: answers in the Cache API of the data center that served them
 * (`caches.default`), under a synthetic URL made of the key on the Worker's own host (Cloudflare advises against
 * other hostnames in cache keys: they cost DNS lookups), so that every isolate there shares them and Cloudflare
 * evicts them under its own bounds. CLASSIFY_CACHE = "on" turns it on; CLASSIFY_CACHE_TTL_SECONDS says how long an
 * answer is kept at most (default a day). No route answers that path: the URL is a cache key, never fetched.
 */
import type { CachedClassification, ClassificationCache } from '../app/classification-cache.js';

/** What the cache needs of workerd's Cache (the DOM's Cache type has the same two methods). */
export interface CacheLike {
  match(request: Request): Promise<Response | undefined>;
  put(request: Request, response: Response): Promise<void>;
}

export const DEFAULT_CACHE_TTL_SECONDS = 86_400;
/** The path under the Worker's host where answers are keyed (by their SHA-256). */
export const CACHE_PATH = '/.classification-cache/v1/';

export class CacheApiClassificationCache implements ClassificationCache {
  constructor(private readonly cache: CacheLike, private readonly ttlSeconds = DEFAULT_CACHE_TTL_SECONDS) {}

  private request(key: string, requestUrl: string): Request {
    return new Request(new URL(`${CACHE_PATH}${key}`, requestUrl));
  }

  async get(key: string, requestUrl: string): Promise<CachedClassification | undefined> {
    const found = await this.cache.match(this.request(key, requestUrl));
    return found ? ((await found.json()) as CachedClassification) : undefined;
  }

  async put(key: string, value: CachedClassification, requestUrl: string): Promise<void> {
    await this.cache.put(this.request(key, requestUrl), new Response(JSON.stringify(value), {
      headers: { 'content-type': 'application/json', 'cache-control': `max-age=${this.ttlSeconds}` },
    }));
  }
}

/** The isolate's `caches.default` (workerd's; absent elsewhere). */
export const defaultCache = (): CacheLike | undefined => (globalThis as { caches?: { default?: CacheLike } }).caches?.default;

/** CLASSIFY_CACHE ("on" | "off", default off) and CLASSIFY_CACHE_TTL_SECONDS from the Worker's vars; null when off. */
export function workerClassificationCache(env: { CLASSIFY_CACHE?: string; CLASSIFY_CACHE_TTL_SECONDS?: string }): CacheApiClassificationCache | null {
  const mode = env.CLASSIFY_CACHE ?? 'off';
  if (mode !== 'on' && mode !== 'off') throw new Error(`CLASSIFY_CACHE must be "on" or "off", not "${mode}"`);
  const cache = defaultCache();
  if (mode === 'off' || !cache) return null;
  const ttl = env.CLASSIFY_CACHE_TTL_SECONDS === undefined || env.CLASSIFY_CACHE_TTL_SECONDS === '' ? DEFAULT_CACHE_TTL_SECONDS : Number(env.CLASSIFY_CACHE_TTL_SECONDS);
  if (!Number.isInteger(ttl) || ttl < 1) throw new Error(`CLASSIFY_CACHE_TTL_SECONDS must be a positive integer, not "${env.CLASSIFY_CACHE_TTL_SECONDS}"`);
  return new CacheApiClassificationCache(cache, ttl);
}
