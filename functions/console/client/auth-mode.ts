/**
 * Whether the server wants API keys, and whether the signed-in key and admin token work: asked of the API itself
 * (GET /v1/models answers without a key only in open mode; GET /admin/keys only with the admin token).
 */
import { ApiProblem, call, messageOf, send } from './api.js';
import { session } from './session.js';

export type KeyState =
  | { kind: 'open' }
  | { kind: 'signed-in' }
  | { kind: 'needs-key' }
  | { kind: 'refused'; message: string }
  | { kind: 'unreachable'; message: string };

export async function keyState(): Promise<KeyState> {
  try {
    if (session.apiKey()) {
      await call('/v1/models');
      return { kind: 'signed-in' };
    }
    const response = await send('/v1/models');
    if (response.ok) return { kind: 'open' };
    if (response.status === 401) return { kind: 'needs-key' };
    return { kind: 'unreachable', message: `GET /v1/models answered ${response.status}` };
  } catch (error) {
    if (error instanceof ApiProblem && error.status === 401) return { kind: 'refused', message: error.message };
    return { kind: 'unreachable', message: messageOf(error) };
  }
}

export type AdminState = { kind: 'none' } | { kind: 'ok' } | { kind: 'off' | 'refused' | 'unreachable'; message: string };

export async function adminState(): Promise<AdminState> {
  if (!session.adminToken()) return { kind: 'none' };
  try {
    await call('/admin/keys', { admin: true });
    return { kind: 'ok' };
  } catch (error) {
    if (error instanceof ApiProblem && error.status === 404) return { kind: 'off', message: 'the admin API is off on this server (it has no ADMIN_TOKEN)' };
    if (error instanceof ApiProblem && error.status === 401) return { kind: 'refused', message: error.message };
    return { kind: 'unreachable', message: messageOf(error) };
  }
}
