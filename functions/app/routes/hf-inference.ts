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
import { readJsonObject } from '../json-body.js';
import { classifyTexts, parseTopK, validateTexts } from './classify.js';
import { unknownModel } from './models.js';

const FUNCTIONS: ScoreFunction[] = ['softmax', 'sigmoid', 'none'];

export function hfInferenceRoutes(registry: Registry, engines: Map<string, ClassificationEngine>): Hono {
  const app = new Hono();
  app.post('/:id{.+}', async (c) => {
    const { inputs, parameters = {} } = (await readJsonObject(c)) as { inputs?: unknown; parameters?: Record<string, unknown> };
    const model = registry.resolve(c.req.param('id'));
    if (!model) return errorResponse(c, unknownModel(registry, c.req.param('id')));
    const texts = validateTexts(typeof inputs === 'string' ? [inputs] : inputs, model.maxBatch, 'inputs');
    if (typeof parameters !== 'object' || parameters === null) throw invalidRequest('"parameters" must be an object', 'parameters');
    const { top_k: topK, function_to_apply: fn = 'softmax' } = parameters;
    const k = parseTopK(topK, model.labels.length, 'parameters.top_k');
    if (!FUNCTIONS.includes(fn as ScoreFunction)) {
      throw invalidRequest(`"parameters.function_to_apply" must be one of ${FUNCTIONS.join(', ')}`, 'parameters.function_to_apply');
    }
    const { engine, results } = await classifyTexts(c, model, engines, texts);
    return c.json(results.map((r) => rankLabels(r.logits, engine.labels, fn as ScoreFunction, k)));
  });
  return app;
}
