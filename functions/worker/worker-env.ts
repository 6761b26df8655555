/** The Worker's bindings and vars (wrangler.toml), shared by its fetch entry and its Durable Objects. */
import type { D1Database } from './d1-database.js';
import type { ModelsEnv } from './edge-models.js';
import type { DurableObjectNamespaceLike } from './key-rate-limiter.js';
import type { R2BucketBinding } from './r2-blob-store.js';

export interface Env extends ModelsEnv {
  /** Keys, usage and fine-tuning's records (wrangler.toml's d1_databases; migrations/ holds the schema). */
  DB?: D1Database;
  /** "keys" (wrangler.toml's default) or "open". */
  AUTH_MODE?: string;
  /** Set with `wrangler secret put ADMIN_TOKEN`; the admin API is off without it. */
  ADMIN_TOKEN?: string;
  /** One KeyRateLimiter object per API key (exact limits across isolates); in-isolate buckets without it. */
  RATE_LIMITER?: DurableObjectNamespaceLike;
  /** Fine-tuning's uploaded and result files, at `<tenant>/<file id>`. */
  TUNING_BUCKET?: R2BucketBinding;
  /** The deployment's one FineTuningQueue object, which creates, cancels and runs the jobs; no fine-tuning without it. */
  FINE_TUNING?: DurableObjectNamespaceLike;
  /** The key the GPU service requires (`wrangler secret put GENERATION_UPSTREAM_KEY`), sent to its origin only. */
  GENERATION_UPSTREAM_KEY?: string;
  /** Origins browsers may call the API from (comma-separated, or "*"); none when empty. */
  CORS_ORIGINS?: string;
  /** "on": classifications answered from the Cache API when asked before (cache-api-classification-cache.ts); default "off". */
  CLASSIFY_CACHE?: string;
  /** How long a cached classification is kept at most, in seconds (default 86400). */
  CLASSIFY_CACHE_TTL_SECONDS?: string;
}
