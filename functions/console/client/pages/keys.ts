/**
 * Tenants and API keys through the admin API (the admin token from the sign-in page): keys listed, created (the
 * secret shown once, here only), disabled, enabled and revoked, and their limits and budgets changed.
 */
import { ApiProblem, call, messageOf } from '../api.js';
import { field, h, notice, show } from '../dom.js';
import { count, usd } from '../format.js';
import { dollars, LIMIT_MAX, wholeNumber } from '../limit-inputs.js';
import { session } from '../session.js';
import { keyLimitsForm } from './key-limits-form.js';

interface AdminKey {
  id: string; tenant: string; name: string | null; prefix: string; status: 'active' | 'disabled' | 'revoked';
  rpm: number; tpm: number; monthly_budget_micro_usd: number | null; created_at: string;
}

export async function mountKeys(root: HTMLElement): Promise<void> {
  if (!session.adminToken()) {
    return show(root, notice('info', 'This page needs the admin token: ', h('a', { href: '/' }, 'sign in'), ' with it (the API key is not enough).'));
  }
  const message = h('div', { 'aria-live': 'polite' });
  /** Where a new key's secret is shown, once: emptied by the next action on the page. */
  const secret = h('div', { 'aria-live': 'polite' });
  const list = h('div');
  const tenants = h('datalist', { id: 'tenant-list' });

  let keys: AdminKey[] = [];
  /** The key whose limits form is open, if any: one at a time. */
  let editing: string | null = null;
  const editButton = (id: string) => list.querySelector<HTMLButtonElement>(`button[data-edit="${CSS.escape(id)}"]`);

  const refresh = async () => {
    try {
      keys = (await call<{ data: AdminKey[] }>('/admin/keys', { admin: true })).data;
    } catch (error) {
      const off = error instanceof ApiProblem && error.status === 404;
      return show(list, notice('error', off ? 'The admin API is off on this server: it has no ADMIN_TOKEN.' : `The keys could not be listed: ${messageOf(error)}`));
    }
    render();
  };

  const editLimits = (key: AdminKey) => {
    const open = editing === key.id;
    return h('button', {
      type: 'button', className: 'secondary', 'data-edit': key.id, 'aria-expanded': String(open), 'aria-controls': `limits-${key.id}`,
      'aria-label': `Edit limits of ${key.name ?? key.prefix}`, onclick: () => {
        editing = open ? null : key.id;
        render();
        if (editing) list.querySelector<HTMLInputElement>(`#limits-${CSS.escape(key.id)} input`)?.focus();
        else editButton(key.id)?.focus();
      },
    }, 'Edit limits');
  };

  const limitsRow = (key: AdminKey) => h('tr', { className: 'limits-row', id: `limits-${key.id}` }, h('td', { colspan: 9 }, keyLimitsForm(key, {
    onCancel: () => {
      editing = null;
      render();
      editButton(key.id)?.focus();
    },
    onSaved: async (saved) => {
      editing = null;
      show(secret);
      const budget = saved.monthly_budget_micro_usd === null ? 'with no budget' : `within ${usd(saved.monthly_budget_micro_usd)} a month`;
      show(message, notice('ok', `Key ${saved.prefix}… now allows ${count(saved.rpm)} requests and ${count(saved.tpm)} tokens a minute, ${budget}, from its next request.`));
      await refresh();
      editButton(key.id)?.focus();
    },
  })));

  function render() {
    show(tenants, [...new Set(keys.map((k) => k.tenant))].map((t) => h('option', { value: t })));
    const action = (key: AdminKey, label: string, run: () => Promise<unknown>, className = 'secondary') => h('button', {
      type: 'button', className, 'aria-label': `${label} ${key.name ?? key.prefix}`, onclick: async () => {
        show(secret);
        try {
          await run();
          show(message, notice('ok', `Key ${key.prefix}… is now ${label === 'Enable' ? 'active' : label === 'Disable' ? 'disabled' : 'revoked'}.`));
        } catch (error) {
          show(message, notice('error', `${label} failed: ${messageOf(error)}`));
        }
        await refresh();
      },
    }, label);
    const revoke = (key: AdminKey) => {
      // Two steps (no browser dialog): revoking is for good.
      const button = h('button', { type: 'button', className: 'danger', 'aria-label': `Revoke ${key.name ?? key.prefix}` }, 'Revoke');
      button.addEventListener('click', async () => {
        if (button.dataset.confirm !== 'yes') {
          button.dataset.confirm = 'yes';
          button.textContent = 'Revoke for good?';
          button.setAttribute('aria-label', `Confirm: revoke ${key.name ?? key.prefix} for good`);
          return;
        }
        show(secret);
        try {
          await call(`/admin/keys/${encodeURIComponent(key.id)}`, { method: 'DELETE', admin: true });
          show(message, notice('ok', `Key ${key.prefix}… is revoked.`));
        } catch (error) {
          show(message, notice('error', `Revoke failed: ${messageOf(error)}`));
        }
        await refresh();
      });
      return button;
    };
    show(list, h('div', { className: 'table-wrap' }, h('table', { className: 'data', 'data-keys': String(keys.length) },
      h('caption', {}, `Keys (${keys.length})`),
      h('thead', {}, h('tr', {}, ['Name', 'Key', 'Tenant', 'Status', 'Requests/min', 'Tokens/min', 'Monthly budget', 'Created', 'Actions'].map((t) => h('th', { scope: 'col', className: t === 'Actions' ? 'actions-cell' : null }, t)))),
      h('tbody', {}, keys.length === 0 ? h('tr', {}, h('td', { colspan: 9 }, 'No keys yet.')) : keys.flatMap((key) => [h('tr', { 'data-key-id': key.id, 'data-status': key.status },
        h('th', { scope: 'row' }, key.name ?? '(no name)'), h('td', {}, h('code', {}, `${key.prefix}…`)), h('td', {}, key.tenant),
        h('td', { className: `status ${key.status}` }, key.status), h('td', {}, count(key.rpm)), h('td', {}, count(key.tpm)),
        h('td', {}, key.monthly_budget_micro_usd === null ? 'none' : usd(key.monthly_budget_micro_usd)), h('td', {}, key.created_at.slice(0, 10)),
        h('td', { className: 'actions-cell' }, key.status === 'revoked' ? '—' : h('div', { className: 'row-actions' }, [
          editLimits(key),
          key.status === 'active'
            ? action(key, 'Disable', () => call(`/admin/keys/${encodeURIComponent(key.id)}/disable`, { method: 'POST', admin: true }))
            : action(key, 'Enable', () => call(`/admin/keys/${encodeURIComponent(key.id)}/enable`, { method: 'POST', admin: true })),
          revoke(key)]))),
        editing === key.id && key.status !== 'revoked' ? limitsRow(key) : null])))));
  }

  const tenantId = h('input', { name: 'tenant-id', pattern: '[a-z0-9_\\-]{1,63}', required: true, autocomplete: 'off' });
  const tenantForm = h('form', { className: 'card row', 'aria-label': 'New tenant' },
    field('New tenant id', tenantId, 'Lowercase letters, digits, "-" or "_".'), h('div', { className: 'actions' }, h('button', { type: 'submit' }, 'Create tenant')));
  tenantForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    try {
      await call('/admin/tenants', { body: { id: tenantId.value.trim() }, admin: true });
      show(message, notice('ok', `Tenant ${tenantId.value.trim()} created: give it a key below.`));
      keyTenant.value = tenantId.value.trim();
      tenantId.value = '';
    } catch (error) {
      show(message, notice('error', `The tenant was not created: ${messageOf(error)}`));
    }
  });

  const keyTenant = h('input', { name: 'tenant', list: 'tenant-list', required: true, autocomplete: 'off' });
  const keyName = h('input', { name: 'name', maxlength: 100, autocomplete: 'off' });
  const rpm = h('input', { type: 'number', name: 'rpm', min: 1, placeholder: '600' });
  const tpm = h('input', { type: 'number', name: 'tpm', min: 1, placeholder: '1000000' });
  // Text, not a number input: "5e" or "1,5" must be a message, not an empty field (no budget) or another amount.
  const budget = h('input', { type: 'text', name: 'budget', inputmode: 'decimal', autocomplete: 'off', placeholder: 'none' });
  const keyForm = h('form', { className: 'card', 'aria-label': 'New key' },
    h('h2', {}, 'New key'),
    h('div', { className: 'row' }, field('Tenant', keyTenant), field('Name', keyName)),
    h('div', { className: 'row' }, field('Requests per minute', rpm), field('Tokens per minute', tpm), field('Monthly budget (USD)', budget, 'Empty: no budget. 0: free requests only.')),
    h('p', { className: 'hint' }, 'Limits and budget can be changed later with the key\'s "Edit limits" button: the change applies from its next request.'),
    h('div', { className: 'actions' }, h('button', { type: 'submit' }, 'Create key')), secret);
  keyForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    show(secret);
    const rpmRead = wholeNumber(rpm, 'Requests per minute', LIMIT_MAX.rpm, 'leave out');
    const tpmRead = wholeNumber(tpm, 'Tokens per minute', LIMIT_MAX.tpm, 'leave out');
    const budgetRead = budget.value.trim() === '' ? { value: undefined } : dollars(budget, 'Monthly budget');
    for (const [read, input] of [[rpmRead, rpm], [tpmRead, tpm], [budgetRead, budget]] as const) {
      if ('problem' in read) {
        show(secret, notice('error', `The key was not created: ${read.problem}`));
        return input.focus();
      }
    }
    try {
      const created = await call<AdminKey & { key: string }>('/admin/keys', {
        admin: true,
        body: { tenant: keyTenant.value.trim(), ...(keyName.value.trim() ? { name: keyName.value.trim() } : {}),
          rpm: 'value' in rpmRead ? rpmRead.value : undefined, tpm: 'value' in tpmRead ? tpmRead.value : undefined,
          ...('value' in budgetRead && budgetRead.value !== undefined ? { monthly_budget_micro_usd: budgetRead.value } : {}) },
      });
      const value = h('input', { readonly: true, value: created.key, 'aria-label': 'The new key', className: 'secret-value', spellcheck: 'false' });
      const copied = h('span', { className: 'copied', role: 'status' });
      show(secret, h('div', { className: 'notice ok', role: 'status' },
        h('p', {}, h('strong', {}, 'Copy this key now: it is shown once, here only.'), ' The server keeps only its hash.'),
        value, h('div', { className: 'actions' }, h('button', { type: 'button', className: 'secondary', onclick: async () => {
          try {
            await navigator.clipboard.writeText(created.key);
            copied.textContent = 'Copied.';
          } catch {
            value.select();
            copied.textContent = 'Selected: press Ctrl+C (or ⌘C) to copy.';
          }
        } }, 'Copy key'), copied)));
      keyName.value = '';
      await refresh();
    } catch (error) {
      show(secret, notice('error', `The key was not created: ${messageOf(error)}`));
    }
  });
  show(root, message, tenantForm, keyForm, tenants, list);
  await refresh();
}
