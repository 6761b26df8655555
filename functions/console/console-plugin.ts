/**
 * The web console as a plugin of the app: an HTML shell per page at `/` and `/console/<page>` (the API reference at
 * `/docs` too), and the client's
 * script and style sheet (built by build/build-client.ts into assets.generated.ts, so that every runtime's bundle
 * carries them) at content-hashed `/console/assets/` URLs. The console is static: it reads and changes things only
 * through the public API and the admin API, from the browser, with the key the user signed in with. Nothing here
 * runs on an API request's path: the entries add the plugin, the core routes never import it.
 */
import { createRoute, z } from '@hono/zod-openapi';
import type { AppPlugin } from '../http/app-plugin.js';
import { ApiError, errorResponse } from '../http/errors.js';
import { declareRoute, routeGroup, type RouteGroup } from '../http/route-declaration.js';
import { CONSOLE_ASSETS } from './assets.generated.js';
import { CONSOLE_PAGES, renderShell, type ConsolePage } from './shell.js';

/** The page's own origin only: the console fetches nothing from outside the deployment. */
const CONTENT_SECURITY_POLICY = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; "
  + "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

const PAGE_HEADERS = {
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'cache-control': 'no-cache',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

const html = (description: string) => ({ 200: { description } });
const home = createRoute({ method: 'get', path: '/', hide: true, responses: html('The console: sign-in and overview.') });
const consoleHome = createRoute({ method: 'get', path: '/console', hide: true, responses: html('The console: sign-in and overview.') });
const page = createRoute({
  method: 'get', path: '/console/{page}', hide: true, request: { params: z.object({ page: z.string() }) }, responses: html('A page of the console.'),
});
const docs = createRoute({ method: 'get', path: '/docs', hide: true, responses: html('The API reference (Swagger UI over /openapi.json), the console\'s reference page.') });
const asset = createRoute({
  method: 'get', path: '/console/assets/{file}', hide: true, request: { params: z.object({ file: z.string() }) }, responses: html("The console's script or style sheet."),
});

const notFound = (what: string) => new ApiError(404, `the console has no ${what}`, 'invalid_request_error', 'not_found');

export interface ConsoleOptions {
  /**
   * How the API admits requests, as the pages say it: "keys" (an API key is needed), "open" (none is), "off" (no
   * billing at all). Told to the page so that it need not probe with a request that fails; unknown: it probes.
   */
  auth?: 'keys' | 'open' | 'off';
}

type Asset = { name: string; type: string; text: string };

export function consoleRoutes(options: ConsoleOptions = {}): RouteGroup {
  // Swagger UI (1.7 MB) is a module of its own, loaded on the reference page's first view: in Node it is not even
  // read before then; in a Worker it is in the bundle but not evaluated before then.
  let reference: Promise<Record<'script' | 'style', Asset>> | null = null;
  const referenceAssets = () => (reference ??= import('./reference-assets.generated.js').then((m) => m.REFERENCE_ASSETS));
  const pages = new Map<string, string>();
  const shell = async (name: ConsolePage) => {
    let text = pages.get(name);
    if (text === undefined) pages.set(name, text = renderShell(name, CONSOLE_ASSETS, options.auth, name === 'reference' ? await referenceAssets() : undefined));
    return text;
  };
  const files = new Map<string, Asset>(Object.values(CONSOLE_ASSETS).map((file) => [file.name, file]));
  const fileNamed = async (name: string): Promise<Asset | undefined> => {
    if (files.has(name) || !name.startsWith('swagger-ui')) return files.get(name);
    return Object.values(await referenceAssets()).find((file) => file.name === name);
  };
  const group = routeGroup();
  declareRoute(group, home, async (c) => c.html(await shell('home'), 200, PAGE_HEADERS));
  declareRoute(group, consoleHome, async (c) => c.html(await shell('home'), 200, PAGE_HEADERS));
  // The API reference's old address: the same page, so that links to /docs keep working and "try it" with them.
  declareRoute(group, docs, async (c) => c.html(await shell('reference'), 200, PAGE_HEADERS));
  declareRoute(group, page, async (c) => {
    const name = c.req.valid('param').page;
    if (!(CONSOLE_PAGES as readonly string[]).includes(name)) return errorResponse(c, notFound(`page "${name.slice(0, 100)}"; its pages are ${CONSOLE_PAGES.join(', ')}`));
    return c.html(await shell(name as ConsolePage), 200, PAGE_HEADERS);
  });
  const gzipped = new Map<string, Promise<ArrayBuffer>>();
  declareRoute(group, asset, async (c) => {
    const name = c.req.valid('param').file;
    const file = await fileNamed(name);
    if (!file) return errorResponse(c, notFound(`asset "${name.slice(0, 100)}"`));
    // The name carries the content's hash: a new build is a new URL, so browsers keep each one for good.
    const headers: Record<string, string> = { 'content-type': file.type, 'cache-control': 'public, max-age=31536000, immutable', 'x-content-type-options': 'nosniff', vary: 'accept-encoding' };
    if (!/\bgzip\b/.test(c.req.header('accept-encoding') ?? '')) return c.body(file.text, 200, headers);
    // Compressed once per process (CompressionStream: Node, workerd and Lambda alike), then served as bytes.
    let bytes = gzipped.get(name);
    if (!bytes) {
      gzipped.set(name, bytes = new Response(new Blob([file.text]).stream().pipeThrough(new CompressionStream('gzip'))).arrayBuffer());
      bytes.catch(() => gzipped.delete(name));
    }
    // encodeBody "manual": workerd would otherwise gzip the gzipped bytes again (Node's Response ignores the option).
    return new Response(await bytes, { status: 200, headers: { ...headers, 'content-encoding': 'gzip' }, encodeBody: 'manual' } as ResponseInit);
  });
  return group;
}

export const consolePlugin = (options: ConsoleOptions = {}): AppPlugin => ({ routes: [consoleRoutes(options)] });
