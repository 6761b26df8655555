/** POST /v1/classify: { model?, input: string | string[], top_k? } → labels and scores per input. */
import { Hono, type Context } from 'hono';
import { QueueFullError } from '../../engine/classification/micro-batcher.js';
import { rankLabels } from '../../engine/classification/scores.js';
import type { ClassificationEngine } from '../../engine/classification/classification-engine.js';
import { modelRef, type ModelEntry, type Registry } from '../../engine/registry/registry.js';
import { ApiError, errorResponse, invalidRequest } from '../errors.js';
import { readJsonObject } from '../json-body.js';
import { unknownModel } from './models.js';

export const MAX_TEXT_CHARS = 100_000;

/** A non-empty list of at most maxBatch non-blank strings, each at most MAX_TEXT_CHARS long. */
export function validateTexts(value: unknown, maxBatch: number, param: string): string[] {
  if (!Array.isArray(value) || value.length === 0) throw invalidRequest(`"${param}" must be a string or a non-empty array of strings`, param);
  if (value.length > maxBatch) throw invalidRequest(`"${param}" holds ${value.length} texts; at most ${maxBatch} per request`, param);
  value.forEach((text, i) => {
    if (typeof text !== 'string') throw invalidRequest(`${param}[${i}] must be a string`, param);
    if (text.trim() === '') throw invalidRequest(`${param}[${i}] is empty`, param);
    if (text.length > MAX_TEXT_CHARS) throw invalidRequest(`${param}[${i}] has ${text.length} characters; at most ${MAX_TEXT_CHARS}`, param);
  });
  return value as string[];
}

/** How many labels to return: top_k when given (a positive integer), else all of them. */
export function parseTopK(value: unknown, labelCount: number, param: string): number {
  if (value === undefined) return labelCount;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) throw invalidRequest(`"${param}" must be a positive integer`, param);
  return Math.min(value, labelCount);
}

/** Runs texts through the model's engine; 400 for a model that does not classify, 503 when its queue is full. */
export async function classifyTexts(c: Context, model: ModelEntry, engines: Map<string, ClassificationEngine>, texts: string[]) {
  const engine = engines.get(modelRef(model));
  if (model.task !== 'text-classification' || !engine) {
    throw invalidRequest(`model "${modelRef(model)}" does not classify text here`, 'model', 'wrong_task');
  }
  try {
    const results = await engine.classify(texts);
    c.header('Server-Timing', `tokenize;dur=${results[0]!.tokenizeMs.toFixed(3)}, inference;dur=${results[0]!.inferenceMs.toFixed(3)}`);
    return { engine, results };
  } catch (error) {
    if (error instanceof QueueFullError) {
      throw new ApiError(503, error.message, 'server_error', 'overloaded', null, { 'Retry-After': String(error.retryAfterSeconds) });
    }
    throw error;
  }
}

export function classifyRoutes(registry: Registry, engines: Map<string, ClassificationEngine>): Hono {
  const app = new Hono();
  app.post('/', async (c) => {
    const { model: name, input, top_k: topK } = await readJsonObject(c);
    if (name !== undefined && (typeof name !== 'string' || name === '')) throw invalidRequest('"model" must be a non-empty string', 'model');
    const model = registry.resolve(name as string | undefined);
    if (!model) return errorResponse(c, unknownModel(registry, name as string));
    const texts = validateTexts(typeof input === 'string' ? [input] : input, model.maxBatch, 'input');
    const k = parseTopK(topK, model.labels.length, 'top_k');
    const { engine, results } = await classifyTexts(c, model, engines, texts);
    return c.json({
      model: modelRef(model),
      results: results.map((r) => rankLabels(r.logits, engine.labels, 'softmax', k)),
      truncated: results.map((r) => r.truncated),
      usage: { input_tokens: results.reduce((sum, r) => sum + r.tokens, 0), texts: results.length },
    });
  });
  return app;
}
