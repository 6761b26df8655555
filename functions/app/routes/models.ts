/** GET /v1/models and GET /v1/models/{id}: the registry's models with their task, limits and price. */
import { createRoute, z } from '@hono/zod-openapi';
import { modelRef, type ModelEntry, type Registry } from '../../registry/registry.js';
import { ApiError, errorResponse, modelNotFound } from '../../http/errors.js';
import { jsonResponse } from '../../http/openapi-responses.js';
import { declareRoute, routeGroup, type RouteGroup } from '../../http/route-declaration.js';
import { clientErrors } from '../openapi/responses.js';
import { ModelCard, ModelId, ModelList } from '../schemas.js';

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

export const unknownModel = (registry: Registry, name: string): ApiError => modelNotFound(name, registry.names());

const listModels = createRoute({ method: 'get', path: '/v1/models', summary: 'The model registry', responses: { 200: jsonResponse(ModelList, 'Every model with its limits and price.') } });

const oneModel = createRoute({
  method: 'get', path: '/v1/models/{id}', summary: 'One model', request: { params: z.object({ id: ModelId }) },
  responses: { 200: jsonResponse(ModelCard, 'The model.'), 404: clientErrors[404] },
});

export function modelRoutes({ registry }: { registry: Registry }): RouteGroup {
  const group = routeGroup();
  declareRoute(group, listModels, (c) => c.json({ object: 'list', data: registry.models.map(describeModel) }));
  declareRoute(group, oneModel, (c) => {
    const { id } = c.req.valid('param');
    const model = registry.resolve(id);
    if (!model) return errorResponse(c, unknownModel(registry, id));
    return c.json(describeModel(model));
  });
  return group;
}
