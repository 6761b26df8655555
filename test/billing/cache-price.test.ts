// The cache price: the registry's optional cache_request_micro_usd, what a classification answered from the
// classification cache costs (flat, no token charges), and its default (the model's request fee) where it is absent.
import { describe, expect, it } from 'vitest';
import { readLocalRegistry } from '../../functions/node/local-app.js';
import { cacheHitCostMicroUsd, costMicroUsd } from '../../functions/registry/pricing.js';
import { Registry, RegistryError } from '../../functions/registry/registry.js';
import { cachedClassificationEstimate } from '../../functions/registry/usage-estimate.js';

const registryWith = (price: Record<string, unknown>) => Registry.parse({
  default: 'm',
  models: [{
    id: 'm', version: '1', task: 'text-classification', runtime: 'edge-wasm', folder: 'm', onnx: 'model.onnx',
    files: { 'model.onnx': 'a'.repeat(64) }, labels: ['NEG', 'POS'], max_tokens: 128, price,
  }],
});

describe('the cache price', () => {
  it('is read from the registry, and a hit costs it whatever the tokens', () => {
    const model = registryWith({ request_micro_usd: 10, cache_request_micro_usd: 0.5, input_token_micro_usd: 0.01, output_token_micro_usd: 0 }).resolve('m')!;
    expect(model.price.cacheRequestMicroUsd).toBe(0.5);
    expect(cacheHitCostMicroUsd(model.price)).toBe(0.5);
    expect(cachedClassificationEstimate(model, 1_000)).toEqual({ tokens: 1_000, costMicroUsd: 0.5, served: { model: 'm', modelVersion: '1', path: 'edge', inputTokens: 1_000, outputTokens: 0, cacheHit: true } });
    expect(costMicroUsd(model.price, 1_000, 0)).toBe(20);
  });

  it("defaults to the model's request fee where the registry gives none", () => {
    const model = registryWith({ request_micro_usd: 7, input_token_micro_usd: 0.01, output_token_micro_usd: 0 }).resolve('m')!;
    expect(model.price.cacheRequestMicroUsd).toBeUndefined();
    expect(cacheHitCostMicroUsd(model.price)).toBe(7);
  });

  it('refuses a cache price that is not a number >= 0', () => {
    for (const bad of [-1, '2', null, Number.NaN]) {
      expect(() => registryWith({ request_micro_usd: 10, cache_request_micro_usd: bad, input_token_micro_usd: 0, output_token_micro_usd: 0 }))
        .toThrow(new RegistryError('model m price: "cache_request_micro_usd" must be a number >= 0'));
    }
  });

  it("is set for this checkout's classifier and encoder", async () => {
    const registry = await readLocalRegistry();
    expect(registry.resolve('sst2-bert')!.price.cacheRequestMicroUsd).toBe(2);
    expect(registry.resolve('electra-imdb-small')!.price.cacheRequestMicroUsd).toBe(2);
  });
});
