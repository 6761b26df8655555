/**
 * The Node server's classification cache: answers in this process's memory, least recently used dropped first,
 * bounded by entries and by bytes (lru-cache). CLASSIFY_CACHE=on turns it on for `npm start`; CLASSIFY_CACHE_ENTRIES
 * and CLASSIFY_CACHE_MB bound it (README).
 */
import { LRUCache } from 'lru-cache';
import type { CachedClassification, ClassificationCache } from '../app/classification-cache.js';
import { choiceFromEnv, intFromEnv } from './entry.js';

export interface MemoryCacheSettings {
  /** Most answers kept (default 10,000). */
  maxEntries?: number;
  /** Most bytes kept, counted as each answer's JSON plus its 64-character key (default 32 MiB). */
  maxBytes?: number;
}

export const DEFAULT_CACHE_ENTRIES = 10_000;
export const DEFAULT_CACHE_MB = 32;

export class MemoryClassificationCache implements ClassificationCache {
  private readonly lru: LRUCache<string, CachedClassification>;

  constructor(settings: MemoryCacheSettings = {}) {
    this.lru = new LRUCache<string, CachedClassification>({
      max: settings.maxEntries ?? DEFAULT_CACHE_ENTRIES,
      maxSize: settings.maxBytes ?? DEFAULT_CACHE_MB * 1024 * 1024,
      // An answer larger than the whole bound is not kept (lru-cache skips it rather than throwing).
      sizeCalculation: (value, key) => key.length + JSON.stringify(value).length,
      maxEntrySize: settings.maxBytes ?? DEFAULT_CACHE_MB * 1024 * 1024,
    });
  }

  async get(key: string): Promise<CachedClassification | undefined> {
    return this.lru.get(key);
  }

  async put(key: string, value: CachedClassification): Promise<void> {
    this.lru.set(key, value);
  }

  /** Answers held now, and the bytes they count for. */
  get size(): { entries: number; bytes: number } {
    return { entries: this.lru.size, bytes: this.lru.calculatedSize };
  }
}

/** CLASSIFY_CACHE (on|off, default off), CLASSIFY_CACHE_ENTRIES and CLASSIFY_CACHE_MB: the settings, or false. */
export function cacheSettingsFromEnv(): MemoryCacheSettings | false {
  if (choiceFromEnv('CLASSIFY_CACHE', ['on', 'off'], 'off') === 'off') return false;
  return { maxEntries: intFromEnv('CLASSIFY_CACHE_ENTRIES', DEFAULT_CACHE_ENTRIES, 1), maxBytes: intFromEnv('CLASSIFY_CACHE_MB', DEFAULT_CACHE_MB, 1) * 1024 * 1024 };
}
