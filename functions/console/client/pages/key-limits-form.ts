/**
 * The form that changes one key's limits and budget (PATCH /admin/keys/{id}), filled with what the key has now: only
 * the fields that differ are sent, the server checks them, and its refusal is shown in the form, which stays open.
 */
import { call, messageOf } from '../api.js';
import { field, h, notice, show } from '../dom.js';

export interface EditableKey {
  id: string; name: string | null; prefix: string; rpm: number; tpm: number; monthly_budget_micro_usd: number | null;
}

export interface KeyLimitsFormOptions {
  /** After the server took the change: the key as it answered it. */
  onSaved(key: EditableKey): void | Promise<void>;
  onCancel(): void;
}

const dollarsOf = (microUsd: number | null) => (microUsd === null ? '' : String(microUsd / 1e6));

export function keyLimitsForm(key: EditableKey, options: KeyLimitsFormOptions): HTMLFormElement {
  const label = key.name ?? key.prefix;
  const rpm = h('input', { type: 'number', name: 'rpm', min: 1, step: 1, value: key.rpm, inputmode: 'numeric' });
  const tpm = h('input', { type: 'number', name: 'tpm', min: 1, step: 1, value: key.tpm, inputmode: 'numeric' });
  const budget = h('input', { type: 'number', name: 'budget', min: 0, step: '0.01', value: dollarsOf(key.monthly_budget_micro_usd), placeholder: 'none' });
  const problem = h('div', { 'aria-live': 'polite' });
  // The server is the one judge of a value (it names the field it refuses): no browser pop-ups in the way.
  const form = h('form', { className: 'limits-form', 'aria-label': `Limits of ${label}`, novalidate: true },
    h('p', { className: 'form-title' }, h('strong', {}, `Limits of ${label}`), ' (they apply from its next request)'),
    h('div', { className: 'row' },
      field('Requests per minute', rpm), field('Tokens per minute', tpm), field('Monthly budget (USD)', budget, 'Empty: no budget. 0: free requests only.')),
    problem,
    h('div', { className: 'actions' },
      h('button', { type: 'submit' }, 'Save limits'),
      h('button', { type: 'button', className: 'secondary', onclick: () => options.onCancel() }, 'Cancel')));
  form.addEventListener('keydown', (event) => {
    if (event.key === 'Escape') options.onCancel();
  });
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const change: Record<string, number | null> = {};
    for (const [input, name, now] of [[rpm, 'rpm', key.rpm], [tpm, 'tpm', key.tpm]] as const) {
      // A number input holding text that is no number reads as empty.
      if (input.value.trim() === '') {
        show(problem, notice('error', `${name === 'rpm' ? 'Requests' : 'Tokens'} per minute: enter a whole number.`));
        return input.focus();
      }
      if (Number(input.value) !== now) change[name] = Number(input.value);
    }
    const dollars = budget.value.trim() === '' ? null : Math.round(Number(budget.value) * 1e6);
    if (dollars !== key.monthly_budget_micro_usd) change.monthly_budget_micro_usd = dollars;
    if (Object.keys(change).length === 0) return show(problem, notice('info', 'Nothing changed: edit a value, or cancel.'));
    try {
      const saved = await call<EditableKey>(`/admin/keys/${encodeURIComponent(key.id)}`, { method: 'PATCH', body: change, admin: true });
      await options.onSaved(saved);
    } catch (error) {
      show(problem, notice('error', `The limits were not changed: ${messageOf(error)}`));
    }
  });
  return form;
}
