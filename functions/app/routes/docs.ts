/** GET /openapi.json and GET /docs: the API's OpenAPI 3 document and a page that renders it. */
import { Hono } from 'hono';
import type { Registry } from '../../engine/registry/registry.js';
import { buildOpenApiDocument } from '../openapi/document.js';
import { renderDocsPage } from '../openapi/docs-page.js';

export function docsRoutes(registry: Registry): Hono {
  const document = buildOpenApiDocument(registry);
  const page = renderDocsPage(document as unknown as Record<string, unknown>);
  const app = new Hono();
  app.get('/openapi.json', (c) => c.json(document));
  app.get('/docs', (c) => c.html(page));
  return app;
}
