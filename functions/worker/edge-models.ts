/**
 * What one isolate loads once and shares between the Worker's requests and the fine-tuning Durable Object when they
 * run in the same isolate: the registry (with the deployment's upstream and overlay) and the edge models' warmed
 * engines, from the bundle or, for models too large to bundle, from the MODELS bucket.
 */
import { DEFAULT_MAX_RUN_TOKENS } from '../engine/classification/sequence-classifier.js';
import { loadEdgeEngines } from '../engine/loading/load-edge-engines.js';
import type { EdgeEngines } from '../engine/loading/edge-tasks.js';
import { applyRegistryOverlay } from '../registry/registry-overlay.js';
import { Registry } from '../registry/registry.js';
import { modelFolders, registryBytes } from './bundled-models.js';
import { workerdSessionFactory } from './ort-workerd.js';

export interface R2BucketLike {
  get(key: string): Promise<{ arrayBuffer(): Promise<ArrayBuffer> } | null>;
}

export interface ModelsEnv {
  /** Model files too large to bundle, at `<folder>/<path>` (checked against the registry's sha256 like the rest). */
  MODELS?: R2BucketLike;
  /** The GPU generation service (the ALB of the AWS stack, or any OpenAI-compatible server) for "embedded" upstreams. */
  GENERATION_UPSTREAM_URL?: string;
  /** The deployment's generation models as JSON (the AWS stack's REGISTRY_OVERLAY output), replacing the checkout's. */
  REGISTRY_OVERLAY?: string;
}

/** A model folder's file: from the Worker bundle, else from the R2 bucket. */
export function modelFileReader(folder: string, bucket: R2BucketLike | undefined) {
  return async (path: string): Promise<Uint8Array | null> => {
    const bundled = modelFolders[folder]?.[path];
    if (bundled) return new Uint8Array(bundled);
    const object = await bucket?.get(`${folder}/${path}`);
    return object ? new Uint8Array(await object.arrayBuffer()) : null;
  };
}

export function workerRegistry(env: ModelsEnv): Registry {
  let registry = Registry.parse(JSON.parse(new TextDecoder().decode(registryBytes)));
  if (env.GENERATION_UPSTREAM_URL) registry = registry.withEmbeddedUpstream(env.GENERATION_UPSTREAM_URL);
  return applyRegistryOverlay(registry, env.REGISTRY_OVERLAY || undefined);
}

let loaded: Promise<EdgeEngines> | null = null;

/** Every edge model's engine, loaded on the isolate's first call; a failed load is tried again by the next call. */
export function edgeEngines(env: ModelsEnv, registry: Registry): Promise<EdgeEngines> {
  loaded ??= loadEdgeEngines(registry, {
    readerFor: (model) => modelFileReader(model.folder!, env.MODELS),
    createSession: workerdSessionFactory(),
    // One isolate serves concurrent requests, but workerd ties work to the request that started it.
    batchAcrossRequests: false,
    // WebAssembly memory grows to the largest run and never shrinks: runs of 16 x 128 tokens keep the isolate in 128 MB
    // (the encoder's own default, 8,192, would not).
    maxRunTokens: DEFAULT_MAX_RUN_TOKENS,
  }).catch((error: unknown) => {
    loaded = null;
    throw error;
  });
  return loaded;
}
