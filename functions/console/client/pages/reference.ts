/**
 * The API reference: Swagger UI (served from this deployment, loaded by this page only) over GET /openapi.json, with
 * "Try it out" against this server. Its requests carry the signed-in API key (Authorization: Bearer), never the
 * admin token, and only to this origin.
 */
import { h, notice, show } from '../dom.js';
import { session } from '../session.js';

interface SwaggerRequest { url: string; headers: Record<string, string> }
interface SwaggerUI { preauthorizeApiKey(scheme: string, value: string): unknown }
type SwaggerUIBundle = (options: Record<string, unknown>) => SwaggerUI;

/** The document's bearer scheme (app/openapi/security.ts: API_KEY_SCHEME). */
const SCHEME = 'bearer';
/**
 * What Swagger UI is authorized with, so that the curl it shows has the Authorization header: a placeholder, never
 * the key (a page, or a screenshot of it, holds no secret); the request that goes out gets the key instead.
 */
export const KEY_PLACEHOLDER = '<your API key>';

export function mountReference(root: HTMLElement): void {
  const bundle = (window as unknown as { SwaggerUIBundle?: SwaggerUIBundle }).SwaggerUIBundle;
  if (!bundle) return show(root, notice('error', 'Swagger UI did not load: the document itself is at ', h('a', { href: '/openapi.json' }, '/openapi.json'), '.'));
  const target = h('div', { id: 'swagger-ui' });
  show(root,
    h('p', { className: 'meta' }, session.apiKey() ? '"Try it out" sends your API key with each request; the curl shown has a placeholder for it. ' : 'Not signed in: "Try it out" sends no key. ',
      'The document itself is at ', h('a', { href: '/openapi.json' }, '/openapi.json'), '.'),
    target);
  const ui: SwaggerUI = bundle({
    url: '/openapi.json', domNode: target, deepLinking: false, tryItOutEnabled: false, displayRequestDuration: true, validatorUrl: null,
    defaultModelsExpandDepth: 0, syntaxHighlight: { activated: false },
    // The curl Swagger UI shows is the request before the interceptor swapped the placeholder for the key.
    showMutatedRequest: false,
    // Swagger UI keeps no authorization of its own in localStorage: the console's session holds the key.
    persistAuthorization: false,
    onComplete: () => {
      if (session.apiKey()) ui.preauthorizeApiKey(SCHEME, KEY_PLACEHOLDER);
    },
    requestInterceptor: (request: SwaggerRequest) => {
      const key = session.apiKey();
      const here = new URL(request.url, location.href).origin === location.origin;
      const auth = request.headers.Authorization;
      // A key typed into Swagger UI's own "Authorize" dialog is sent as typed; the placeholder never is.
      if (auth === `Bearer ${KEY_PLACEHOLDER}` || auth === undefined) {
        if (key && here) request.headers.Authorization = `Bearer ${key}`;
        else delete request.headers.Authorization;
      }
      return request;
    },
  });
}
