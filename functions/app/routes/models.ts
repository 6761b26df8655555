/**
 * GET /v1/models and GET /v1/models/{id}: the registry's models with their task, limits and price, and the caller's
 * fine-tuned models (TenantModels, when the deployment has them); DELETE /v1/models/{id} removes a fine-tuned one.
 * Another tenant's model answers exactly as a name nobody serves.
 */
import { createRoute, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { TenantModel, TenantModels } from '../../engine/tasks/tenant-models.js';
import { modelRef, type ModelEntry, type Registry, type Task } from '../../registry/registry.js';
import { ApiError, errorResponse, modelNotFound } from '../../http/errors.js';
import { ErrorBody, jsonResponse } from '../../http/openapi-responses.js';
import type { AppEnv } from '../../http/request-context.js';
import { declareRoute, routeGroup, type RouteGroup } from '../../http/route-declaration.js';
import { clientErrors } from '../openapi/responses.js';
import { DeletedModel, ModelCard, ModelId, ModelList, type EdgeEngine } from '../schemas.js';

/** Registry models are the platform's; their entries carry no creation date. */
const REGISTRY_OWNER = 'system';

/** A registry model's card; engine: what runs the edge models here (onnxruntime-web unless the entry says otherwise). */
export function describeModel(m: ModelEntry, engine: EdgeEngine = 'onnxruntime-web') {
  return {
    id: modelRef(m),
    object: 'model',
    created: 0,
    owned_by: REGISTRY_OWNER,
    task: m.task,
    runtime: m.runtime,
    engine: m.runtime === 'edge-wasm' ? engine : null,
    version: m.version,
    aliases: m.aliases,
    labels: m.labels,
    limits: { max_tokens: m.maxTokens, max_batch: m.maxBatch },
    price: {
      request_micro_usd: m.price.requestMicroUsd,
      input_token_micro_usd: m.price.inputTokenMicroUsd,
      output_token_micro_usd: m.price.outputTokenMicroUsd,
      ...(m.price.cacheRequestMicroUsd === undefined ? {} : { cache_request_micro_usd: m.price.cacheRequestMicroUsd }),
    },
  };
}

/** A fine-tuned model: its full name is its id (clients send it back as it is). */
export const describeTenantModel = (m: Omit<TenantModel, 'classifier'>, engine?: EdgeEngine) => ({ ...describeModel(m.entry, engine), id: m.entry.id, created: m.created, owned_by: m.ownedBy });

/** 404 naming what is available: with a task, the models a route of that task can run. */
export const unknownModel = (registry: Registry, name: string, task?: Task): ApiError => modelNotFound(name, registry.names(task));

export const modelNotReady = jsonResponse(ErrorBody, "A fine-tuned model whose job has not succeeded yet (model_not_ready; the message gives the job's status).");

const listModels = createRoute({
  method: 'get', path: '/v1/models', summary: 'The model registry, and the caller\'s fine-tuned models',
  responses: { 200: jsonResponse(ModelList, 'Every model with its limits and price.') },
});

const oneModel = createRoute({
  method: 'get', path: '/v1/models/{id}', summary: 'One model', request: { params: z.object({ id: ModelId }) },
  responses: { 200: jsonResponse(ModelCard, 'The model.'), 404: clientErrors[404] },
});

const deleteModel = createRoute({
  method: 'delete', path: '/v1/models/{id}', summary: 'Delete one of the caller\'s fine-tuned models', request: { params: z.object({ id: ModelId }) },
  responses: {
    200: jsonResponse(DeletedModel, 'The model is deleted: it answers 404 from now on.'),
    403: jsonResponse(ErrorBody, 'A registry model, which no caller can delete (cannot_delete_model).'),
    404: clientErrors[404],
  },
});

export interface ModelRouteDeps {
  registry: Registry;
  tenantModels?: TenantModels;
  /** What runs the edge models (and the fine-tuned ones on their encoders) in this deployment; default onnxruntime-web. */
  edgeEngine?: EdgeEngine;
}

const tenantOf = (c: Context<AppEnv>) => c.get('apiKey')?.tenantId ?? null;

export function modelRoutes({ registry, tenantModels, edgeEngine }: ModelRouteDeps): RouteGroup {
  const group = routeGroup();
  const card = (m: ModelEntry) => describeModel(m, edgeEngine);
  const tenantCard = (m: Omit<TenantModel, 'classifier'>) => describeTenantModel(m, edgeEngine);
  const ownModels = async (c: Context<AppEnv>) => (tenantModels ? await tenantModels.list(tenantOf(c)) : []);
  const isTenantName = (name: string) => tenantModels?.claims(name) ?? false;

  declareRoute(group, listModels, async (c) => c.json({
    object: 'list',
    data: [...registry.models.map(card), ...(await ownModels(c)).map(tenantCard)],
  }));
  declareRoute(group, oneModel, async (c) => {
    const { id } = c.req.valid('param');
    if (isTenantName(id)) {
      const model = (await ownModels(c)).find((m) => m.entry.id === id);
      return model ? c.json(tenantCard(model)) : errorResponse(c, unknownModel(registry, id));
    }
    const model = registry.resolve(id);
    if (!model) return errorResponse(c, unknownModel(registry, id));
    return c.json(card(model));
  });
  declareRoute(group, deleteModel, async (c) => {
    const { id } = c.req.valid('param');
    if (tenantModels && isTenantName(id)) {
      if (!(await tenantModels.remove(id, tenantOf(c)))) return errorResponse(c, unknownModel(registry, id));
      return c.json({ id, object: 'model' as const, deleted: true as const });
    }
    if (registry.resolve(id)) {
      return errorResponse(c, new ApiError(403, `model "${id}" belongs to the registry; only fine-tuned models can be deleted`, 'permission_error', 'cannot_delete_model', 'model'));
    }
    return errorResponse(c, unknownModel(registry, id));
  });
  return group;
}
