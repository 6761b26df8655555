// Without ADMIN_TOKEN the admin API does not exist: every admin route answers 404 in the JSON error shape, with or
// without a token, so that nobody can probe it.
import { describe, expect, it } from 'vitest';
import { ErrorBody } from '../../functions/http/openapi-responses.js';
import { useKeysServer } from './helpers.js';

const ctx = useKeysServer({ adminToken: undefined, generation: false });

const routes: [string, string, unknown?][] = [
  ['POST', '/admin/tenants', { id: 'acme' }],
  ['POST', '/admin/keys', { tenant: 'acme' }],
  ['GET', '/admin/keys'],
  ['POST', '/admin/keys/key_1/disable'],
  ['POST', '/admin/keys/key_1/enable'],
  ['DELETE', '/admin/keys/key_1'],
  ['GET', '/admin/billing/export'],
];

describe('the admin API without ADMIN_TOKEN', () => {
  it.each(routes.flatMap(([method, path, body]) => [[method, path, 'no token', body], [method, path, 'a guessed token', body]] as const))(
    '%s %s with %s answers 404 in the JSON error shape',
    async (method, path, token, body) => {
      const res = await fetch(`${ctx.server.url}${path}`, {
        method,
        headers: { ...(token === 'no token' ? {} : { authorization: 'Bearer change-me' }), ...(body ? { 'content-type': 'application/json' } : {}) },
        body: body ? JSON.stringify(body) : undefined,
      });
      expect(res.status).toBe(404);
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      const error = ErrorBody.parse(await res.json()).error;
      expect(error.type).toBe('invalid_request_error');
    },
  );
});
