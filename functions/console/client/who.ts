/** The header's line on what the user is signed in with (never the secrets themselves). */
import { session } from './session.js';

export function showWho(): void {
  const who = document.getElementById('who');
  if (!who) return;
  const parts = [session.apiKey() ? 'API key set' : 'no API key', session.adminToken() ? 'admin token set' : null].filter(Boolean);
  who.textContent = parts.join(' · ');
}
