/**
 * What the router's registry says about a stage's GPU model, in models/registry.json's format: the stage's model
 * under the name its server serves it by, with the stage's prices and limits, and, for a stage that scales to zero,
 * its documented wake-up time (`warmup_seconds`, for the router's `upstream_warming` answer and its Retry-After).
 * The router Lambda receives it as REGISTRY_OVERLAY and puts it in place of the checkout's gpu-upstream entries
 * (functions/lambda/stage-setup.ts). The upstream's `region` is the jurisdiction of the stage's AWS region
 * (jurisdiction.ts: eu-west-1 → eu, us-east-1 → us, eu-west-2 → uk), so that keys pinned to it reach the stage's GPU
 * service and keys pinned elsewhere never do; a region of no jurisdiction writes none.
 */
import type { StageConfig } from './config.js';
import { jurisdictionOf } from './jurisdiction.js';

export const REGISTRY_OVERLAY_ENV = 'REGISTRY_OVERLAY';

export interface RegistryOverlay {
  models: Record<string, unknown>[];
}

export function registryOverlay(config: StageConfig, generationUrl: string): RegistryOverlay {
  const model = config.generation;
  const region = jurisdictionOf(config.region);
  return {
    models: [{
      id: model.id,
      version: model.version,
      task: 'text-generation',
      runtime: 'gpu-upstream',
      upstreams: [{
        url: generationUrl,
        model: model.servedName,
        ...(region ? { region } : {}),
        // Only a service that scales to zero is down by design; for it the router answers `upstream_warming`.
        ...(config.minCapacity === 0 ? { warmup_seconds: config.wakeSeconds } : {}),
      }],
      max_tokens: model.maxTokens,
      aliases: model.aliases,
      price: { request_micro_usd: model.price.requestMicroUsd, input_token_micro_usd: model.price.inputTokenMicroUsd, output_token_micro_usd: model.price.outputTokenMicroUsd },
    }],
  };
}
