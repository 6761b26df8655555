/**
 * Built export zips by tenant model, bounded by bytes (least recently used out first). Building one costs a few
 * hundred milliseconds of CPU on the event loop (the ONNX merge and the zip), and its bytes are a function of the
 * model alone: a model is immutable once made, so a hit is checked against a fingerprint of what the zip is built
 * from (base, head, creation time), and a deleted model is evicted (or never served: the route reads its record first).
 * Concurrent exports of one model share one build.
 */
import { LruByBytes } from '../serving/lru-by-bytes.js';

export const DEFAULT_EXPORT_CACHE_BYTES = 64 * 1024 * 1024;

export interface ExportIdentity {
  tenantId: string;
  name: string;
  base: string;
  head: Uint8Array;
  createdAt: number;
}

export class ExportCache {
  private readonly zips: LruByBytes<{ fingerprint: string; zip: Uint8Array }>;
  private readonly building = new Map<string, Build>();

  constructor(maxBytes = DEFAULT_EXPORT_CACHE_BYTES) {
    this.zips = new LruByBytes(maxBytes);
  }

  /** Deletes seen so far (of any model): a build that started before one is served but not kept. */
  private evictions = 0;

  /** The cached zip of this model, or the one `build` makes (then kept). */
  async zipOf(model: ExportIdentity, build: () => Promise<Uint8Array>): Promise<Uint8Array> {
    const key = keyOf(model.tenantId, model.name);
    // A delete may land while the fingerprint is hashed, before this build is registered: the count tells.
    const evictionsBefore = this.evictions;
    const fingerprint = await fingerprintOf(model);
    const cached = this.zips.get(key);
    if (cached?.fingerprint === fingerprint) return cached.zip;
    const pending = this.building.get(key);
    if (pending?.fingerprint === fingerprint) return pending.zip;
    const started: Build = { fingerprint, zip: build(), evicted: false };
    this.building.set(key, started);
    try {
      const bytes = await started.zip;
      // A delete while it was building: serve this request, keep nothing.
      if (!started.evicted && this.evictions === evictionsBefore) this.zips.set(key, { fingerprint, zip: bytes }, bytes.byteLength);
      return bytes;
    } finally {
      if (this.building.get(key) === started) this.building.delete(key);
    }
  }

  evict(tenantId: string, name: string): void {
    const key = keyOf(tenantId, name);
    this.evictions++;
    this.zips.delete(key);
    const pending = this.building.get(key);
    if (pending) pending.evicted = true;
    this.building.delete(key);
  }

  get bytes(): number {
    return this.zips.bytes;
  }

  get size(): number {
    return this.zips.size;
  }
}

interface Build {
  fingerprint: string;
  zip: Promise<Uint8Array>;
  evicted: boolean;
}

const keyOf = (tenantId: string, name: string) => `${tenantId}\n${name}`;

async function fingerprintOf(model: ExportIdentity): Promise<string> {
  const meta = new TextEncoder().encode(`${model.base}\n${model.createdAt}\n`);
  const bytes = new Uint8Array(meta.length + model.head.length);
  bytes.set(meta);
  bytes.set(model.head, meta.length);
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
  return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
}
