/**
 * POST /models/{id}, compatible with the Hugging Face Inference API for text classification:
 * { inputs: string | string[], parameters?: { top_k?, function_to_apply?, explain?, cache? }, options?: { use_cache? }, cache? }
 * → [[{ label, score }, ...], ...], one list per input (the API nests a single input too, and the official client reads
 * it that way). The cache is skipped when any opt-out says so: `parameters.cache: false` or `cache: false` (as on
 * /v1/classify), the Inference API's `x-use-cache: false` header, or its legacy `options.use_cache: false`.
 */
import { createRoute, z } from '@hono/zod-openapi';
import { jsonResponse } from '../../http/openapi-responses.js';
import { declareRoute, routeGroup, type RouteGroup } from '../../http/route-declaration.js';
import { clientErrors } from '../openapi/responses.js';
import { HfClassifyHeaders, HfClassifyRequest, HfClassifyResponse, ModelId } from '../schemas.js';
import { batchOf, classificationAnswer, servedClassifier, type ClassificationDeps } from './classify.js';
import { modelNotReady } from './models.js';

const textClassification = createRoute({
  method: 'post', path: '/models/{id}', summary: 'Hugging Face Inference API: text classification',
  description: 'Accepts what @huggingface/inference textClassification sends (endpointUrl pointing here) and answers its shape.',
  request: { params: z.object({ id: ModelId }), headers: HfClassifyHeaders, body: { required: true, content: { 'application/json': { schema: HfClassifyRequest } } } },
  responses: { 200: jsonResponse(HfClassifyResponse, 'Labels and scores per input.'), ...clientErrors, 409: modelNotReady },
});

export function hfInferenceRoutes(deps: ClassificationDeps): RouteGroup {
  const group = routeGroup();
  // Model ids may hold slashes (org/name), as the Hugging Face API's do.
  declareRoute(group, { ...textClassification, routingPath: '/models/:id{.+}' }, async (c) => {
    const request = c.req.valid('json');
    const { id } = c.req.valid('param');
    const served = await servedClassifier(c, deps, id);
    const batch = batchOf(request.inputs, served, 'inputs');
    const labels = served.classifier.labels;
    const topK = Math.min(request.parameters?.top_k ?? labels.length, labels.length);
    const scoreFunction = request.parameters?.function_to_apply ?? 'softmax';
    const header = c.req.valid('header')['x-use-cache']?.toLowerCase();
    const optedOut = [request.cache, request.parameters?.cache, request.options?.use_cache, header === undefined ? undefined : header === 'true' || header === '1'].includes(false);
    const answer = await classificationAnswer(c, deps.classificationCache, served, batch,
      { topK, scoreFunction, explain: request.parameters?.explain, cache: !optedOut, param: 'inputs' });
    deps.traffic?.afterAnswer(c, served.routed, batch.texts, answer.results, scoreFunction);
    return c.json(answer.results);
  });
  return group;
}
