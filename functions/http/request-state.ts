/** Gives each request its id (`x-request-id`, echoed when valid, else generated), an empty meter and no key. */
import type { MiddlewareHandler } from 'hono';
import { newMeter } from './meter.js';
import type { AppEnv } from './request-context.js';

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export function requestState(generate: () => string): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const given = c.req.header('x-request-id');
    const id = given && REQUEST_ID.test(given) ? given : generate();
    c.set('requestId', id);
    c.set('meter', newMeter());
    c.set('apiKey', null);
    c.set('admit', async () => {});
    c.header('x-request-id', id);
    await next();
    // Responses that routes build themselves (passed-through upstream answers) skip Hono's header presets.
    if (!c.res.headers.has('x-request-id')) c.res.headers.set('x-request-id', id);
  };
}
