/**
 * GET /openapi.json: the OpenAPI 3 document of the app's route table (every route declared with
 * http/route-declaration.ts, the plugins' too). It does not document itself. The page that renders it (Swagger UI,
 * at /docs and /console/reference) belongs to the console, outside the core routes.
 */
import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { patternCovers, type PluginMiddleware } from '../../http/app-plugin.js';
import { declareRoute, routeGroup, type RouteGroup } from '../../http/route-declaration.js';
import type { AppEnv } from '../../http/request-context.js';

const DOCUMENT = {
  openapi: '3.0.3',
  info: { title: 'edge-maas', version: '1', description: 'Text classification at the edge (int8 ONNX on WebAssembly). Every error answers { error: { message, type, code, param } }.' },
};

type Document = ReturnType<OpenAPIHono['getOpenAPIDocument']>;

const openApiJson = createRoute({ method: 'get', path: '/openapi.json', hide: true, summary: 'This document', responses: { 200: { description: 'The OpenAPI 3 document.' } } });

/** The plugins' middleware answers, added to every operation they run on (once, before the document is built). */
function documentMiddlewareAnswers(routeTable: OpenAPIHono<AppEnv>, middleware: PluginMiddleware[]): void {
  for (const definition of routeTable.openAPIRegistry.definitions) {
    if (definition.type !== 'route') continue;
    const covering = middleware.filter((m) => m.responses && patternCovers(m.path, definition.route.path));
    // The route table's own copy of the declaration (app.route made it): the route groups' are left as they are.
    definition.route.responses = Object.assign({}, ...covering.map((m) => m.responses), definition.route.responses);
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
      document = routeTable.getOpenAPIDocument(DOCUMENT);
    }
    return document;
  };
  const group = routeGroup();
  declareRoute(group, openApiJson, (c) => c.json(openApi()));
  return group;
}
