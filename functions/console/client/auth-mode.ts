/**
 * Whether the server wants API keys, and whether the signed-in key and admin token work: asked of the API itself
 * (GET /v1/models answers without a key only in open mode; GET /admin/keys only with the admin token).
 */
import { ApiProblem, call, messageOf, send } from './api.js';
import { h } from './dom.js';
import { session } from './session.js';

export type KeyState =
  | { kind: 'open' }
  | { kind: 'signed-in' }
  | { kind: 'needs-key' }
  | { kind: 'refused'; message: string }
  | { kind: 'unreachable'; message: string };

/** What the server told the page of its admission ("keys", "open", "off"; "unknown": ask the API). */
export const serverAuth = (): string => document.body.dataset.auth ?? 'unknown';

/** Where a key is needed and none is set: a message that says so (and no request that would fail); else null. */
export function signInFirst(what: string): HTMLElement | null {
  if (serverAuth() !== 'keys' || session.apiKey()) return null;
  return h('p', { className: 'notice info', role: 'status' }, `${what} needs an API key on this server: `, h('a', { href: '/' }, 'sign in'), ' first.');
}

export async function keyState(): Promise<KeyState> {
  const auth = serverAuth();
  if (!session.apiKey() && (auth === 'open' || auth === 'off')) return { kind: 'open' };
  if (!session.apiKey() && auth === 'keys') return { kind: 'needs-key' };
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
