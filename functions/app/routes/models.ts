import { Hono } from 'hono';
import { modelRef, type ModelEntry, type Registry } from '../../registry/registry.js';
import { ApiError, errorResponse } from '../../http/errors.js';

export function describeModel(m: ModelEntry) {
  return {
    id: modelRef(m),
    object: 'model',
    task: m.task,
    runtime: m.runtime,
    version: m.version,
    aliases: m.aliases,
    labels: m.labels,
    limits: { max_tokens: m.maxTokens, max_batch: m.maxBatch },
    price: {
      request_micro_usd: m.price.requestMicroUsd,
      input_token_micro_usd: m.price.inputTokenMicroUsd,
      output_token_micro_usd: m.price.outputTokenMicroUsd,
    },
  };
}

export function modelRoutes(registry: Registry): Hono {
  const app = new Hono();
  app.get('/', (c) => c.json({ object: 'list', data: registry.models.map(describeModel) }));
  app.get('/:id', (c) => {
    const model = registry.resolve(c.req.param('id'));
    if (!model) return errorResponse(c, unknownModel(registry, c.req.param('id')));
    return c.json(describeModel(model));
  });
  return app;
}

export function unknownModel(registry: Registry, name: string): ApiError {
  return new ApiError(404, `model "${name}" does not exist; available: ${registry.names().join(', ')}`, 'invalid_request_error', 'model_not_found', 'model');
}
