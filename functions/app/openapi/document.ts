/** The OpenAPI 3 document of the public API, generated from the schemas that validate its requests. */
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import type { Registry } from '../../engine/registry/registry.js';
import { ClassifyRequest, ClassifyResponse, ErrorBody, HfClassifyRequest, HfClassifyResponse, ModelCard, ModelList } from '../schemas.js';

const json = <S extends z.ZodType>(schema: S, description: string) => ({ description, content: { 'application/json': { schema } } });

const errors = {
  400: json(ErrorBody, 'Malformed JSON, invalid UTF-8, or an invalid field (error.param names it).'),
  404: json(ErrorBody, 'Unknown model; the message lists the available ones.'),
  413: json(ErrorBody, 'The body is over the size limit (1 MiB).'),
  415: json(ErrorBody, 'The body is not application/json.'),
  503: json(ErrorBody, 'Overloaded: the queue is full. Retry after the Retry-After header.'),
} as const;

const ModelId = z.string().openapi({ param: { name: 'id', in: 'path' }, description: 'id, id@version or alias', example: 'sentiment' });
const Status = z.object({ status: z.string() });

export function buildOpenApiDocument(registry: Registry) {
  const api = new OpenAPIHono();
  const routes = [
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
      responses: { 200: json(ClassifyResponse, 'Labels and scores per text.'), ...errors },
    }),
    createRoute({
      method: 'post', path: '/models/{id}', summary: 'Hugging Face Inference API: text classification',
      description: 'Accepts what @huggingface/inference textClassification sends (endpointUrl pointing here) and answers its shape.',
      request: { params: z.object({ id: ModelId }), body: { required: true, content: { 'application/json': { schema: HfClassifyRequest } } } },
      responses: { 200: json(HfClassifyResponse, 'Labels and scores per input.'), ...errors },
    }),
  ];
  for (const route of routes) api.openAPIRegistry.registerPath(route);
  return api.getOpenAPIDocument({
    openapi: '3.0.3',
    info: { title: 'edge-maas', version: '1', description: 'Text classification at the edge (int8 ONNX on WebAssembly). Every error answers { error: { message, type, code, param } }.' },
  });
}
