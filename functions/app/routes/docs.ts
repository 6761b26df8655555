/** GET /openapi.json and GET /docs: the API's OpenAPI 3 document and a page that renders it. */
import { Hono } from 'hono';
import type { Registry } from '../../registry/registry.js';
import { buildOpenApiDocument } from '../openapi/document.js';
import { renderDocsPage } from '../openapi/docs-page.js';

export function docsRoutes(registry: Registry): Hono {
  // Built on first use (about 25 ms): not on the start-up path of a Worker isolate or a Lambda cold start.
  let built: { document: ReturnType<typeof buildOpenApiDocument>; page: string } | null = null;
  const docs = () => {
    if (!built) {
      const document = buildOpenApiDocument(registry);
      built = { document, page: renderDocsPage(document as unknown as Record<string, unknown>) };
    }
    return built;
  };
  const app = new Hono();
  app.get('/openapi.json', (c) => c.json(docs().document));
  app.get('/docs', (c) => c.html(docs().page));
  return app;
}
