/**
 * The API reference: Swagger UI (served from this deployment, loaded by this page only) over GET /openapi.json, with
 * "Try it out" against this server. Its requests carry the signed-in API key (Authorization: Bearer), never the
 * admin token, and only to this origin.
 */
import { h, notice, show } from '../dom.js';
import { session } from '../session.js';

interface SwaggerRequest { url: string; headers: Record<string, string> }
type SwaggerUIBundle = (options: Record<string, unknown>) => unknown;

export function mountReference(root: HTMLElement): void {
  const bundle = (window as unknown as { SwaggerUIBundle?: SwaggerUIBundle }).SwaggerUIBundle;
  if (!bundle) return show(root, notice('error', 'Swagger UI did not load: the document itself is at ', h('a', { href: '/openapi.json' }, '/openapi.json'), '.'));
  const target = h('div', { id: 'swagger-ui' });
  show(root,
    h('p', { className: 'meta' }, session.apiKey() ? '"Try it out" sends your API key with each request. ' : 'Not signed in: "Try it out" sends no key. ',
      'The document itself is at ', h('a', { href: '/openapi.json' }, '/openapi.json'), '.'),
    target);
  bundle({
    url: '/openapi.json', domNode: target, deepLinking: false, tryItOutEnabled: false, displayRequestDuration: true, validatorUrl: null,
    defaultModelsExpandDepth: 0, syntaxHighlight: { activated: false },
    // The curl Swagger UI shows is the request before the key was added: no secret on the page.
    showMutatedRequest: false,
    requestInterceptor: (request: SwaggerRequest) => {
      const key = session.apiKey();
      if (key && new URL(request.url, location.href).origin === location.origin && !request.headers.Authorization) request.headers.Authorization = `Bearer ${key}`;
      return request;
    },
  });
}
