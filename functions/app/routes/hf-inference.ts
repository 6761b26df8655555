/**
 * POST /models/:id, compatible with the Hugging Face Inference API for text classification:
 * { inputs: string | string[], parameters?: { top_k?, function_to_apply? } } → [[{ label, score }, ...], ...],
 * one list per input (the API nests a single input too, and the official client reads it that way).
 */
import { Hono } from 'hono';
import { rankLabels, type ScoreFunction } from '../../engine/classification/scores.js';
import type { ClassificationEngine } from '../../engine/classification/classification-engine.js';
import type { Registry } from '../../engine/registry/registry.js';
import { errorResponse, invalidRequest } from '../errors.js';
import { readJsonBody } from '../json-body.js';
import { classifyTexts, validateTexts } from './classify.js';
import { unknownModel } from './models.js';

const FUNCTIONS: ScoreFunction[] = ['softmax', 'sigmoid', 'none'];

export function hfInferenceRoutes(registry: Registry, engines: Map<string, ClassificationEngine>): Hono {
  const app = new Hono();
  app.post('/:id{.+}', async (c) => {
    const body = await readJsonBody(c);
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw invalidRequest('the body must be a JSON object');
    const { inputs, parameters = {} } = body as { inputs?: unknown; parameters?: Record<string, unknown> };
    const model = registry.resolve(c.req.param('id'));
    if (!model) return errorResponse(c, unknownModel(registry, c.req.param('id')));
    const texts = validateTexts(typeof inputs === 'string' ? [inputs] : inputs, model.maxBatch, 'inputs');
    if (typeof parameters !== 'object' || parameters === null) throw invalidRequest('"parameters" must be an object', 'parameters');
    const { top_k: topK, function_to_apply: fn = 'softmax' } = parameters;
    if (topK !== undefined && (typeof topK !== 'number' || !Number.isInteger(topK) || topK < 1)) {
      throw invalidRequest('"parameters.top_k" must be a positive integer', 'parameters.top_k');
    }
    if (!FUNCTIONS.includes(fn as ScoreFunction)) {
      throw invalidRequest(`"parameters.function_to_apply" must be one of ${FUNCTIONS.join(', ')}`, 'parameters.function_to_apply');
    }
    const { engine, results } = await classifyTexts(c, model, engines, texts);
    const k = Math.min((topK as number | undefined) ?? engine.labels.length, engine.labels.length);
    return c.json(results.map((r) => rankLabels(r.logits, engine.labels, fn as ScoreFunction, k)));
  });
  return app;
}
