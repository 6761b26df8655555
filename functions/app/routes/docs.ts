/**
 * GET /openapi.json: the OpenAPI 3 document of the app's route table (every route declared with
 * http/route-declaration.ts, the plugins' too). It does not document itself. The page that renders it (Swagger UI,
 * at /docs and /console/reference) belongs to the console, outside the core routes.
 */
import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { patternCovers, type PluginMiddleware } from '../../http/app-plugin.js';
import { declareRoute, routeGroup, type RouteGroup } from '../../http/route-declaration.js';
import type { AppEnv } from '../../http/request-context.js';
import { API_KEY_SCHEME, apiKeySecurityScheme, optionalApiKey } from '../openapi/security.js';

const DOCUMENT = {
  openapi: '3.0.3',
  info: { title: 'edge-maas', version: '1', description: 'Text classification at the edge (int8 ONNX on WebAssembly). Every error answers { error: { message, type, code, param } }.' },
  security: optionalApiKey,
};

type Document = ReturnType<OpenAPIHono['getOpenAPIDocument']>;

const openApiJson = createRoute({ method: 'get', path: '/openapi.json', hide: true, summary: 'This document', responses: { 200: { description: 'The OpenAPI 3 document.' } } });

type Responses = NonNullable<PluginMiddleware['responses']>;

/** Responses of several layers for one operation: one status documented by two of them holds both descriptions. */
function joined(parts: Array<Responses | undefined>): Responses {
  const out: Record<string, any> = {};
  for (const responses of parts) {
    for (const [status, response] of Object.entries(responses ?? {})) {
      const had = out[status];
      out[status] = had ? { ...had, ...response, description: `${had.description} Or: ${(response as { description: string }).description}` } : response;
    }
  }
  return out as Responses;
}

/** The plugins' middleware answers, added to every operation they run on (once, before the document is built). */
function documentMiddlewareAnswers(routeTable: OpenAPIHono<AppEnv>, middleware: PluginMiddleware[]): void {
  for (const definition of routeTable.openAPIRegistry.definitions) {
    if (definition.type !== 'route') continue;
    const covering = middleware.filter((m) => patternCovers(m.path, definition.route.path));
    // The route table's own copy of the declaration (app.route made it): the route groups' are left as they are.
    const responses = joined([...covering.map((m) => m.responses), definition.route.responses]) as Record<string, { headers?: Record<string, unknown> }>;
    const headers = Object.assign({}, ...covering.map((m) => m.responseHeaders ?? {})) as Record<string, unknown>;
    if (Object.keys(headers).length > 0) for (const status of Object.keys(responses)) responses[status] = { ...responses[status], headers: { ...responses[status]!.headers, ...headers } };
    definition.route.responses = responses as Responses;
  }
}

/** The request headers the plugins' middleware reads, as parameters of the operations they run on. */
function documentMiddlewareParameters(document: Document, middleware: PluginMiddleware[]): void {
  for (const [path, item] of Object.entries(document.paths ?? {})) {
    const parameters = middleware.filter((m) => m.parameters && patternCovers(m.path, path)).flatMap((m) => m.parameters!);
    if (parameters.length === 0) continue;
    for (const operation of Object.values(item as Record<string, { parameters?: unknown[] }>)) operation.parameters = [...(operation.parameters ?? []), ...parameters];
  }
}

export interface DocsDeps {
  routeTable: OpenAPIHono<AppEnv>;
  middleware?: PluginMiddleware[];
}

export function docsRoutes({ routeTable, middleware = [] }: DocsDeps): RouteGroup {
  // Built on first use (about 25 ms): not on the start-up path of a Worker isolate or a Lambda cold start.
  let document: Document | null = null;
  const openApi = () => {
    if (!document) {
      documentMiddlewareAnswers(routeTable, middleware);
      routeTable.openAPIRegistry.registerComponent('securitySchemes', API_KEY_SCHEME, apiKeySecurityScheme);
      document = routeTable.getOpenAPIDocument(DOCUMENT);
      documentMiddlewareParameters(document, middleware);
    }
    return document;
  };
  const group = routeGroup();
  declareRoute(group, openApiJson, (c) => c.json(openApi()));
  return group;
}
