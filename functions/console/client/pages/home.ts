/** Sign in: the API key and the admin token, each checked against the API and kept in this tab's session only. */
import { adminState, keyState, type AdminState, type KeyState } from '../auth-mode.js';
import { field, h, notice, show } from '../dom.js';
import { showWho } from '../who.js';
import { session } from '../session.js';

function describeKey(state: KeyState): HTMLElement {
  switch (state.kind) {
    case 'open': return notice('ok', 'This server runs in open mode: no API key is needed. Requests without a key are metered together.');
    case 'signed-in': return notice('ok', 'Signed in: the API key works.');
    case 'needs-key': return notice('info', 'This server needs an API key for its API. Enter yours below.');
    case 'refused': return notice('error', `The API key was refused: ${state.message}`);
    case 'unreachable': return notice('error', `The API could not be checked: ${state.message}`);
  }
}

function describeAdmin(state: AdminState): HTMLElement | null {
  switch (state.kind) {
    case 'none': return null;
    case 'ok': return notice('ok', 'The admin token works: the Keys page can manage tenants and keys.');
    case 'off': return notice('error', `The admin token cannot be used: ${state.message}.`);
    default: return notice('error', `The admin token was refused: ${state.message}`);
  }
}

export async function mountHome(root: HTMLElement): Promise<void> {
  const status = h('div', { className: 'states', 'aria-live': 'polite' });
  const key = h('input', { type: 'password', name: 'api-key', autocomplete: 'off', spellcheck: 'false', placeholder: 'sk-…' });
  const admin = h('input', { type: 'password', name: 'admin-token', autocomplete: 'off', spellcheck: 'false' });
  const refresh = async () => {
    show(status, notice('info', 'Checking…'));
    const [k, a] = await Promise.all([keyState(), adminState()]);
    show(status, describeKey(k), describeAdmin(a));
    showWho();
  };
  const form = h('form', { className: 'card', 'aria-label': 'Sign in' },
    field('API key', key, 'Kept in this browser tab only (sessionStorage); sent as Authorization: Bearer.'),
    field('Admin token (optional)', admin, 'Only for the Keys page: tenants, keys and limits.'),
    h('div', { className: 'actions' },
      h('button', { type: 'submit' }, 'Sign in'),
      h('button', { type: 'button', className: 'secondary', onclick: () => {
        session.setApiKey(null);
        session.setAdminToken(null);
        key.value = '';
        admin.value = '';
        void refresh();
      } }, 'Sign out')));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    if (key.value.trim()) session.setApiKey(key.value);
    if (admin.value.trim()) session.setAdminToken(admin.value);
    key.value = '';
    admin.value = '';
    void refresh();
  });
  show(root, status, form,
    h('section', { className: 'card', 'aria-labelledby': 'pages-heading' },
      h('h2', { id: 'pages-heading' }, 'What is here'),
      h('ul', {},
        h('li', {}, h('a', { href: '/console/playground' }, 'Playground'), ': classify texts (with word attributions) and stream generations.'),
        h('li', {}, h('a', { href: '/console/usage' }, 'Usage'), ': requests, tokens and cost by day, model and key; CSV export.'),
        h('li', {}, h('a', { href: '/console/keys' }, 'API keys'), ': create, disable and revoke keys, change their limits and budgets (admin token).'),
        h('li', {}, h('a', { href: '/console/fine-tuning' }, 'Fine-tuning'), ': train a classifier on your own labelled texts and try it.'),
        h('li', {}, h('a', { href: '/console/reference' }, 'API reference'), ': every route, generated from the schemas, with "Try it out" (also at /docs).'))));
  await refresh();
}
