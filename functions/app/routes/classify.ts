/** POST /v1/classify: { model?, input: string | string[], top_k?, explain?, cache? } → labels and scores per input (and why). */
import { createRoute } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { QueueFullError } from '../../engine/tasks/queue-full-error.js';
import { rankLabels, type ScoreFunction } from '../../engine/classification/scores.js';
import type { TenantModels } from '../../engine/tasks/tenant-models.js';
import type { TextClassifier } from '../../engine/tasks/text-classifier.js';
import { modelRef, type ModelEntry, type Registry } from '../../registry/registry.js';
import { cachedClassificationEstimate, classificationEstimate } from '../../registry/usage-estimate.js';
import type { AppEnv } from '../../http/request-context.js';
import { ApiError, invalidRequest } from '../../http/errors.js';
import { jsonResponse } from '../../http/openapi-responses.js';
import { declareRoute, routeGroup, type RouteGroup } from '../../http/route-declaration.js';
import { explainResults, explainSettings, planExplanations, type ExplainOption } from '../explanations.js';
import { afterAnswer, CACHE_HEADER, classificationKey, withoutTexts, withTexts, type CachedClassification, type ClassificationCache } from '../classification-cache.js';
import { clientErrors } from '../openapi/responses.js';
import { ClassifyRequest, ClassifyResponse } from '../schemas.js';
import { modelNotReady, unknownModel } from './models.js';
import { MODEL_VERSION_HEADER, type RoutedVersion, type TrafficRouter } from '../../traffic/traffic-router.js';

/**
 * What the classification routes run on: the catalog, the classifier of each edge model (by id@version), and the
 * callers' fine-tuned models when the deployment has them.
 */
export interface ClassificationDeps {
  registry: Registry;
  engines: Map<string, TextClassifier>;
  tenantModels?: TenantModels;
  /** Answers by a hash of what decides them (classification-cache.ts); every request runs its model without it. */
  classificationCache?: ClassificationCache;
  /** Splits aliases between versions and runs shadows (functions/traffic/); none: the registry's aliases alone. */
  traffic?: TrafficRouter;
}

/** A model a route runs: its entry (limits, price), the name answers show, and its classifier. */
export interface ServedClassifier {
  model: ModelEntry;
  name: string;
  classifier: TextClassifier;
  /** Whose cached answers it may share: the caller's tenant ("shared" without a key) for registry models, the owner (and its making) for a fine-tuned one. */
  cacheScope: string;
  /** The traffic route that chose this version, when one did (its shadow runs after the answer). */
  routed?: RoutedVersion;
}

/**
 * The classifier a name means to this caller. A fine-tuned model's name goes to the tenant models only, so that
 * another tenant's model answers the same 404 as a name nobody serves; 400 for a model that does not classify.
 */
export async function servedClassifier(c: Context<AppEnv>, deps: ClassificationDeps, name: string | undefined): Promise<ServedClassifier> {
  const { registry, engines, tenantModels } = deps;
  if (name !== undefined && tenantModels?.claims(name)) {
    const tenantModel = await tenantModels.resolve(name, c.get('apiKey')?.tenantId ?? null);
    if (!tenantModel) throw unknownModel(registry, name, 'text-classification');
    c.header(MODEL_VERSION_HEADER, tenantModel.entry.id);
    return { model: tenantModel.entry, name: tenantModel.entry.id, classifier: tenantModel.classifier, cacheScope: `tenant:${tenantModel.ownedBy}:${tenantModel.created}` };
  }
  const routed = (await deps.traffic?.route(c, name)) ?? undefined;
  const model = routed?.model ?? registry.resolve(name);
  if (!model) throw unknownModel(registry, name ?? '', 'text-classification');
  const engine = engines.get(modelRef(model));
  if (model.task !== 'text-classification' || !engine) {
    throw invalidRequest(`model "${modelRef(model)}" does not classify text here`, 'model', 'wrong_task');
  }
  // A registry model's answers are shared within the caller's tenant only: shared across tenants, a hit would tell
  // one tenant that another sent the same text. Keyless callers (open mode) are one anonymous tenant.
  const tenantId = c.get('apiKey')?.tenantId;
  c.header(MODEL_VERSION_HEADER, modelRef(model));
  return { model, name: modelRef(model), classifier: engine, cacheScope: tenantId === undefined ? 'shared' : `tenant:${tenantId}`, routed };
}

/** A request's texts and, where the classifier counts them, the tokens each costs (admission reuses them). */
export interface Batch {
  texts: string[];
  tokens: number[] | undefined;
}

/**
 * One text becomes a batch of one; a batch may hold at most the model's max_batch texts. A text the model reads no
 * token of (only control, zero-width or other characters its normalisation drops) is a 400 naming it, as an empty
 * string is: the model would answer from its special tokens alone, a confident label about nothing. A text costs
 * no more tokens than the empty text exactly when none of it is read.
 */
export function batchOf(input: string | string[], { model, name, classifier }: ServedClassifier, param: string): Batch {
  const texts = typeof input === 'string' ? [input] : input;
  if (texts.length > model.maxBatch) throw invalidRequest(`"${param}" holds ${texts.length} texts; at most ${model.maxBatch} per request for ${name}`, param);
  const tokens = classifier.countTokens?.(texts);
  if (!tokens) return { texts, tokens };
  const specialOnly = classifier.countTokens!([''])[0]!;
  const unread = tokens.findIndex((count) => count <= specialOnly);
  if (unread >= 0) {
    const field = typeof input === 'string' ? param : `${param}[${unread}]`;
    throw invalidRequest(`${typeof input === 'string' ? `"${field}"` : field} has no tokens once normalised (only whitespace, control or zero-width characters): nothing to classify`, field);
  }
  return { texts, tokens };
}

const clientGone = () =>
  new ApiError(499 as ContentfulStatusCode, 'the client closed the connection before the texts were classified', 'invalid_request_error', 'client_closed');

/** Runs texts through the model's classifier, metered at its price; 503 when its queue is full, 499 when the client left. */
export async function classifyTexts(c: Context<AppEnv>, { model, classifier }: ServedClassifier, texts: string[], counted = classifier.countTokens?.(texts)) {
  await c.get('admit')(classificationEstimate(model, texts, counted));
  // The client gone (its connection closed), texts still queued are dropped: an explained request queues hundreds.
  const signal = c.req.raw.signal;
  try {
    const results = await classifier.classify(texts, { signal });
    c.header('Server-Timing', `tokenize;dur=${results[0]!.tokenizeMs.toFixed(3)}, inference;dur=${results[0]!.inferenceMs.toFixed(3)}`);
    Object.assign(c.get('meter'), {
      model: model.id, modelVersion: model.version, path: 'edge', price: model.price,
      inputTokens: results.reduce((sum, r) => sum + r.tokens, 0), outputTokens: 0,
      computeMs: results[0]!.tokenizeMs + results[0]!.inferenceMs,
    });
    return results;
  } catch (error) {
    if (signal.aborted) throw clientGone();
    if (error instanceof QueueFullError) {
      throw new ApiError(503, error.message, 'server_error', 'overloaded', null, { 'Retry-After': String(error.retryAfterSeconds) });
    }
    throw error;
  }
}

/** The texts run, and with `explain` their occlusion variants in the same call; `batch` is null when explain is off. */
export async function classifyExplainable(c: Context<AppEnv>, served: ServedClassifier, { texts, tokens }: Batch, explain: ExplainOption | undefined, param: string) {
  const settings = explainSettings(explain);
  const batch = settings ? { ...planExplanations(served.classifier, texts, param), settings } : null;
  const all = await classifyTexts(c, served, batch ? batch.texts : texts, batch ? batch.tokens : tokens);
  return { all, batch };
}

/** What decides a classification's answer besides the model and texts; `cache: false` skips the cache. */
export interface AnswerOptions {
  topK: number;
  scoreFunction: ScoreFunction;
  explain: ExplainOption | undefined;
  cache: boolean | undefined;
  param: string;
}

/** The texts run (with their explanations) and ranked, as both routes answer them. */
async function computedAnswer(c: Context<AppEnv>, served: ServedClassifier, request: Batch, o: AnswerOptions): Promise<CachedClassification> {
  const { all, batch } = await classifyExplainable(c, served, request, o.explain, o.param);
  const labels = served.classifier.labels;
  const inputTokens = all.reduce((sum, r) => sum + r.tokens, 0);
  if (!batch) return { results: all.map((r) => rankLabels(r.logits, labels, o.scoreFunction, o.topK)), truncated: all.map((r) => r.truncated), inputTokens };
  const explained = explainResults(batch, all, labels, o.scoreFunction, o.topK, batch.settings);
  return { results: explained.ranked, truncated: explained.results.map((r) => r.truncated), inputTokens, explanationTokens: explained.explanationTokens };
}

/**
 * The answer from the deployment's cache when it holds it (admitted and metered at the model's cache price, X-Cache:
 * hit), else computed and stored after the answer (miss); `cache: false` computes it and leaves the cache alone (bypass).
 */
export async function classificationAnswer(c: Context<AppEnv>, cache: ClassificationCache | undefined, served: ServedClassifier, request: Batch, o: AnswerOptions): Promise<CachedClassification> {
  const { texts } = request;
  if (!cache || o.cache === false) {
    if (cache) c.header(CACHE_HEADER, 'bypass');
    return computedAnswer(c, served, request, o);
  }
  const { model } = served;
  const key = await classificationKey({
    model: modelRef(model), weights: (model.onnx && model.files[model.onnx]) || null, scope: served.cacheScope,
    texts, topK: o.topK, scoreFunction: o.scoreFunction, explain: explainSettings(o.explain),
  });
  const found = await cache.get(key, c.req.url).catch(() => undefined);
  if (found) {
    await c.get('admit')(cachedClassificationEstimate(model, found.inputTokens));
    Object.assign(c.get('meter'), {
      model: model.id, modelVersion: model.version, path: 'edge', price: model.price, inputTokens: found.inputTokens, outputTokens: 0, computeMs: 0, cacheHit: true,
    });
    c.header(CACHE_HEADER, 'hit');
    return { ...found, results: withTexts(found.results, texts) };
  }
  const answer = await computedAnswer(c, served, request, o);
  c.header(CACHE_HEADER, 'miss');
  afterAnswer(c, cache.put(key, { ...answer, results: withoutTexts(answer.results) }, c.req.url));
  return answer;
}

const classify = (registry: Registry) => createRoute({
  method: 'post', path: '/v1/classify', summary: 'Classify one text or a batch',
  description: `Texts from concurrent requests are batched together on the engine. Models: ${registry.names('text-classification').join(', ')}.`,
  request: { body: { required: true, content: { 'application/json': { schema: ClassifyRequest } } } },
  responses: { 200: jsonResponse(ClassifyResponse, 'Labels and scores per text.'), ...clientErrors, 409: modelNotReady },
});

export function classifyRoutes(deps: ClassificationDeps): RouteGroup {
  const group = routeGroup();
  declareRoute(group, classify(deps.registry), async (c) => {
    const request = c.req.valid('json');
    const served = await servedClassifier(c, deps, request.model);
    const batch = batchOf(request.input, served, 'input');
    const labels = served.classifier.labels;
    const topK = Math.min(request.top_k ?? labels.length, labels.length);
    const answer = await classificationAnswer(c, deps.classificationCache, served, batch,
      { topK, scoreFunction: 'softmax', explain: request.explain, cache: request.cache, param: 'input' });
    deps.traffic?.afterAnswer(c, served.routed, batch.texts, answer.results, 'softmax');
    const usage = { input_tokens: answer.inputTokens, texts: answer.results.length };
    return c.json({
      model: served.name,
      results: answer.results,
      truncated: answer.truncated,
      usage: answer.explanationTokens === undefined ? usage : { ...usage, explanation_tokens: answer.explanationTokens },
    });
  });
  return group;
}
