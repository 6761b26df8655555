/** POST /v1/classify: { model?, input: string | string[], top_k? } → labels and scores per input. */
import { Hono } from 'hono';
import { QueueFullError } from '../../engine/classification/micro-batcher.js';
import { rankLabels } from '../../engine/classification/scores.js';
import type { ClassificationEngine } from '../../engine/classification/classification-engine.js';
import type { Registry } from '../../engine/registry/registry.js';
import { ApiError, errorResponse, invalidRequest } from '../errors.js';
import { readJsonBody } from '../json-body.js';
import { unknownModel } from './models.js';

export const MAX_TEXT_CHARS = 100_000;

interface ClassifyRequest {
  model?: string;
  inputs: string[];
  topK?: number;
}

function parseRequest(body: unknown, maxBatch: number): ClassifyRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw invalidRequest('the body must be a JSON object');
  const { model, input, top_k: topK } = body as Record<string, unknown>;
  if (model !== undefined && (typeof model !== 'string' || model === '')) throw invalidRequest('"model" must be a non-empty string', 'model');
  const inputs = typeof input === 'string' ? [input] : input;
  if (!Array.isArray(inputs) || inputs.length === 0) throw invalidRequest('"input" must be a string or a non-empty array of strings', 'input');
  if (inputs.length > maxBatch) throw invalidRequest(`"input" holds ${inputs.length} texts; at most ${maxBatch} per request`, 'input');
  inputs.forEach((text, i) => {
    if (typeof text !== 'string') throw invalidRequest(`input[${i}] must be a string`, 'input');
    if (text.trim() === '') throw invalidRequest(`input[${i}] is empty`, 'input');
    if (text.length > MAX_TEXT_CHARS) throw invalidRequest(`input[${i}] has ${text.length} characters; at most ${MAX_TEXT_CHARS}`, 'input');
  });
  if (topK !== undefined && (typeof topK !== 'number' || !Number.isInteger(topK) || topK < 1)) {
    throw invalidRequest('"top_k" must be a positive integer', 'top_k');
  }
  return { model: model as string | undefined, inputs: inputs as string[], topK: topK as number | undefined };
}

export function classifyRoutes(registry: Registry, engines: Map<string, ClassificationEngine>): Hono {
  const app = new Hono();
  app.post('/', async (c) => {
    const body = await readJsonBody(c);
    const maxBatch = Math.max(...registry.models.map((m) => m.maxBatch));
    const request = parseRequest(body, maxBatch);
    const model = registry.resolve(request.model);
    if (!model) return errorResponse(c, unknownModel(registry, request.model ?? ''));
    const engine = engines.get(`${model.id}@${model.version}`);
    if (model.task !== 'text-classification' || !engine) {
      throw invalidRequest(`model "${model.id}@${model.version}" does not classify text here`, 'model', 'wrong_task');
    }
    if (request.inputs.length > model.maxBatch) {
      throw invalidRequest(`"input" holds ${request.inputs.length} texts; ${model.id} takes at most ${model.maxBatch}`, 'input');
    }
    let results;
    try {
      results = await engine.classify(request.inputs);
    } catch (error) {
      if (error instanceof QueueFullError) {
        throw new ApiError(503, error.message, 'server_error', 'overloaded', null, { 'Retry-After': String(error.retryAfterSeconds) });
      }
      throw error;
    }
    const topK = Math.min(request.topK ?? engine.labels.length, engine.labels.length);
    c.header('Server-Timing', `tokenize;dur=${results[0]!.tokenizeMs.toFixed(3)}, inference;dur=${results[0]!.inferenceMs.toFixed(3)}`);
    return c.json({
      model: `${model.id}@${model.version}`,
      results: results.map((r) => rankLabels(r.logits, engine.labels, 'softmax', topK)),
      truncated: results.map((r) => r.truncated),
      usage: { input_tokens: results.reduce((sum, r) => sum + r.tokens, 0), texts: results.length },
    });
  });
  return app;
}
