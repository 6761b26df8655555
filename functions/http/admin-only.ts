/**
 * The operator's guard for every /admin route (billing, privacy, traffic): `Authorization: Bearer <ADMIN_TOKEN>`.
 * Without a token configured the admin API is off and answers 404, so its routes cannot be probed.
 */
import type { MiddlewareHandler } from 'hono';
import { ApiError } from './errors.js';
import type { AppEnv } from './request-context.js';

/** Compares digests, so that neither the time taken nor an early exit on length tells how much of a secret matched. */
export async function sameSecret(given: string, expected: string): Promise<boolean> {
  const digest = async (s: string) => new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(s)));
  const [a, b] = await Promise.all([digest(given), digest(expected)]);
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

export const adminOnly = (adminToken: string | undefined): MiddlewareHandler<AppEnv> => async (c, next) => {
  if (!adminToken) throw new ApiError(404, 'the admin API is off: set ADMIN_TOKEN to turn it on', 'invalid_request_error', 'not_found');
  const given = /^Bearer\s+(\S+)$/i.exec(c.req.header('authorization') ?? '')?.[1] ?? '';
  if (!(await sameSecret(given, adminToken))) throw new ApiError(401, 'the admin API needs "Authorization: Bearer <ADMIN_TOKEN>"', 'authentication_error', 'invalid_admin_token');
  await next();
};
