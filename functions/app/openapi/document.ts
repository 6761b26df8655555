/** The OpenAPI 3 document of the public API, generated from the schemas that validate its requests. */
import { createRoute, OpenAPIHono, z, type RouteConfig } from '@hono/zod-openapi';
import type { Registry } from '../../registry/registry.js';
import { ChatCompletionRequest, CompletionRequest } from '../../protocol/openai-schemas.js';
import { ClassifyRequest, ClassifyResponse, ErrorBody, HfClassifyRequest, HfClassifyResponse, ModelCard, ModelList } from '../schemas.js';

const json = <S extends z.ZodType>(schema: S, description: string) => ({ description, content: { 'application/json': { schema } } });

const errors = {
  400: json(ErrorBody, 'Malformed JSON, invalid UTF-8, or an invalid field (error.param names it).'),
  404: json(ErrorBody, 'Unknown model; the message lists the available ones.'),
  413: json(ErrorBody, 'The body is over the size limit (1 MiB, after gzip or deflate decoding).'),
  415: json(ErrorBody, 'The body is not application/json, or its Content-Encoding is not gzip, deflate or none.'),
  503: json(ErrorBody, 'Overloaded: the queue is full. Retry after the Retry-After header.'),
} as const;

const billingErrors = {
  401: json(ErrorBody, 'With API keys required: no key, or an unknown one.'),
  402: json(ErrorBody, "The request's maximum cost does not fit in what is left of the key's monthly budget."),
  403: json(ErrorBody, 'The key is disabled or revoked.'),
  409: json(ErrorBody, 'A request with this Idempotency-Key is still running: retry after Retry-After.'),
  422: json(ErrorBody, 'This Idempotency-Key was used with another request (method, path or body) in the last 24 hours.'),
  429: json(ErrorBody, 'Rate limit reached: see Retry-After, RateLimit and x-ratelimit-* headers.'),
} as const;

const upstreamErrors = {
  502: json(ErrorBody, 'The GPU upstream failed.'),
  503: json(ErrorBody, 'No upstream is available (its circuit is open, or none is configured).'),
  504: json(ErrorBody, 'The upstream did not answer in time.'),
} as const;

const generationBody = (schema: z.ZodType, description: string) => ({
  description, required: true, content: { 'application/json': { schema } },
});

const completionAnswer = (what: string) => ({
  description: `${what}, in OpenAI's shape; with "stream": true, server-sent events (data: {chunk} lines, then data: [DONE]).`,
  content: { 'application/json': { schema: z.object({ id: z.string(), object: z.string(), choices: z.array(z.unknown()), usage: z.unknown() }) }, 'text/event-stream': { schema: z.string() } },
});

const UsageReport = z.object({
  object: z.literal('usage'), group_by: z.enum(['model', 'day', 'key']), from: z.string(), to: z.string(), tenant: z.string().nullable(),
  data: z.array(z.object({ requests: z.number().int(), input_tokens: z.number().int(), output_tokens: z.number().int(), cost_micro_usd: z.number() }).catchall(z.string())),
}).openapi('UsageReport');

const ModelId = z.string().openapi({ param: { name: 'id', in: 'path' }, description: 'id, id@version or alias', example: 'sentiment' });
const Status = z.object({ status: z.string() });

export function buildOpenApiDocument(registry: Registry) {
  const api = new OpenAPIHono();
  const routes: RouteConfig[] = [
    createRoute({ method: 'get', path: '/healthz', summary: 'Liveness', responses: { 200: json(Status, 'The process is up.') } }),
    createRoute({
      method: 'get', path: '/readyz', summary: 'Readiness: models loaded and warmed',
      responses: { 200: json(Status, 'Ready to classify.'), 503: json(Status, 'Still loading.') },
    }),
    createRoute({ method: 'get', path: '/v1/models', summary: 'The model registry', responses: { 200: json(ModelList, 'Every model with its limits and price.') } }),
    createRoute({
      method: 'get', path: '/v1/models/{id}', summary: 'One model', request: { params: z.object({ id: ModelId }) },
      responses: { 200: json(ModelCard, 'The model.'), 404: errors[404] },
    }),
    createRoute({
      method: 'post', path: '/v1/classify', summary: 'Classify one text or a batch',
      description: `Texts from concurrent requests are batched together on the engine. Models: ${registry.names().join(', ')}.`,
      request: { body: { required: true, content: { 'application/json': { schema: ClassifyRequest } } } },
      responses: { 200: json(ClassifyResponse, 'Labels and scores per text.'), ...errors, ...billingErrors },
    }),
    createRoute({
      method: 'post', path: '/models/{id}', summary: 'Hugging Face Inference API: text classification',
      description: 'Accepts what @huggingface/inference textClassification sends (endpointUrl pointing here) and answers its shape.',
      request: { params: z.object({ id: ModelId }), body: { required: true, content: { 'application/json': { schema: HfClassifyRequest } } } },
      responses: { 200: json(HfClassifyResponse, 'Labels and scores per input.'), ...errors, ...billingErrors },
    }),
  ];
  routes.push(
    createRoute({
      method: 'post', path: '/v1/completions', summary: 'Text completion (OpenAI API), from a gpu-upstream model',
      request: { body: generationBody(CompletionRequest.openapi('CompletionRequest'), 'OpenAI completions request; n must be 1.') },
      responses: { 200: completionAnswer('The completion'), ...errors, ...billingErrors, ...upstreamErrors },
    }),
    createRoute({
      method: 'post', path: '/v1/chat/completions', summary: 'Chat completion (OpenAI API), from a gpu-upstream model',
      request: { body: generationBody(ChatCompletionRequest.openapi('ChatCompletionRequest'), 'OpenAI chat completions request; n must be 1.') },
      responses: { 200: completionAnswer('The chat completion'), ...errors, ...billingErrors, ...upstreamErrors },
    }),
    createRoute({
      method: 'get', path: '/v1/usage', summary: "Requests, tokens and cost of the caller's tenant",
      request: { query: z.object({ from: z.string().optional(), to: z.string().optional(), group_by: z.enum(['model', 'day', 'key']).optional() }) },
      responses: { 200: json(UsageReport, 'Usage grouped by model, day or key.'), 400: errors[400], ...billingErrors },
    }),
  );
  for (const route of routes) api.openAPIRegistry.registerPath(route);
  return api.getOpenAPIDocument({
    openapi: '3.0.3',
    info: { title: 'edge-maas', version: '1', description: 'Text classification at the edge (int8 ONNX on WebAssembly). Every error answers { error: { message, type, code, param } }.' },
  });
}
