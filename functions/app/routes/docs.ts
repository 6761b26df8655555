/**
 * GET /openapi.json and GET /docs: the OpenAPI 3 document of the app's route table (every route declared with
 * http/route-declaration.ts, the plugins' too) and a page that renders it, with a live explained classification
 * when the app's classifiers are given. Neither documents itself.
 */
import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { patternCovers, type PluginMiddleware } from '../../http/app-plugin.js';
import { declareRoute, routeGroup, type RouteGroup } from '../../http/route-declaration.js';
import type { AppEnv } from '../../http/request-context.js';
import { renderDocsPage } from '../openapi/docs-page.js';
import type { ExplainedExample } from '../openapi/explanation-section.js';
import type { ClassificationDeps } from './classify.js';
import { explainExample } from './docs-example.js';

const DOCUMENT = {
  openapi: '3.0.3',
  info: { title: 'edge-maas', version: '1', description: 'Text classification at the edge (int8 ONNX on WebAssembly). Every error answers { error: { message, type, code, param } }.' },
};

type Document = ReturnType<OpenAPIHono['getOpenAPIDocument']>;

const openApiJson = createRoute({ method: 'get', path: '/openapi.json', hide: true, summary: 'This document', responses: { 200: { description: 'The OpenAPI 3 document.' } } });
const docsPageRoute = createRoute({ method: 'get', path: '/docs', hide: true, summary: 'The API reference', responses: { 200: { description: 'The document as an HTML page.' } } });

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
  /** The app's classifiers: the page then explains an example sentence with the default one. */
  classification?: ClassificationDeps;
}

export function docsRoutes({ routeTable, middleware = [], classification }: DocsDeps): RouteGroup {
  // Built on first use (about 25 ms): not on the start-up path of a Worker isolate or a Lambda cold start.
  let document: Document | null = null;
  const openApi = () => {
    if (!document) {
      documentMiddlewareAnswers(routeTable, middleware);
      document = routeTable.getOpenAPIDocument(DOCUMENT);
    }
    return document;
  };
  // The example runs once per process (concurrent first views share the run); a failed run is tried again next view.
  let example: Promise<ExplainedExample | null> | null = null;
  let page: string | null = null;
  const docsPage = async () => {
    if (page) return page;
    example ??= classification ? explainExample(classification) : Promise.resolve(null);
    let failed = false;
    const explained = await example.catch((error: unknown) => {
      failed = true;
      console.error(`docs example not rendered: ${error instanceof Error ? error.message : String(error)}`);
      return null;
    });
    const html = renderDocsPage(openApi() as unknown as Record<string, unknown>, explained);
    if (failed) example = null;
    else page = html;
    return html;
  };
  const group = routeGroup();
  declareRoute(group, openApiJson, (c) => c.json(openApi()));
  declareRoute(group, docsPageRoute, async (c) => c.html(await docsPage()));
  return group;
}
