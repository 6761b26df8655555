/**
 * The form that changes one key's limits and budget (PATCH /admin/keys/{id}), filled with what the key has now: only
 * the fields that differ are sent. The form reads its fields first (limit-inputs.ts: a value it cannot read is a
 * message in the units typed, and nothing is sent); the server judges the rest, and its refusal is shown in the form,
 * which stays open. Taking a budget away is the "No budget" box, never an empty or unreadable amount.
 */
import { call, messageOf } from '../api.js';
import { field, h, notice, show } from '../dom.js';
import { dollars, LIMIT_MAX, wholeNumber } from '../limit-inputs.js';

export interface EditableKey {
  id: string; name: string | null; prefix: string; rpm: number; tpm: number; monthly_budget_micro_usd: number | null;
}

export interface KeyLimitsFormOptions {
  /** After the server took the change: the key as it answered it. */
  onSaved(key: EditableKey): void | Promise<void>;
  onCancel(): void;
}

/** The micro-USD as digits, exactly (no float: 1 micro-USD is "0.000001"). */
const dollarsOf = (microUsd: number | null) => {
  if (microUsd === null) return '';
  const cents = String(microUsd % 1e6).padStart(6, '0').replace(/0+$/, '');
  return `${Math.floor(microUsd / 1e6)}${cents ? `.${cents}` : ''}`;
};

/** An answer that is a key with its limits (a proxy or an older server may answer something else with 200). */
function isEditableKey(answer: unknown): answer is EditableKey {
  const k = answer as Partial<EditableKey> | null;
  return typeof k === 'object' && k !== null && typeof k.prefix === 'string' && Number.isFinite(k.rpm) && Number.isFinite(k.tpm)
    && (k.monthly_budget_micro_usd === null || Number.isFinite(k.monthly_budget_micro_usd));
}

export function keyLimitsForm(key: EditableKey, options: KeyLimitsFormOptions): HTMLFormElement {
  const label = key.name ?? key.prefix;
  const rpm = h('input', { type: 'number', name: 'rpm', min: 1, step: 1, value: key.rpm, inputmode: 'numeric' });
  const tpm = h('input', { type: 'number', name: 'tpm', min: 1, step: 1, value: key.tpm, inputmode: 'numeric' });
  // Text, not a number input: what was typed is read as typed ("1,5" or "5e" is a message, not 15 or nothing).
  const budget = h('input', { type: 'text', name: 'budget', inputmode: 'decimal', autocomplete: 'off', value: dollarsOf(key.monthly_budget_micro_usd), placeholder: '25.00' });
  const noBudget = h('input', { type: 'checkbox', name: 'no-budget', id: `no-budget-${key.id}`, checked: key.monthly_budget_micro_usd === null });
  const syncBudget = () => {
    budget.disabled = noBudget.checked;
  };
  noBudget.addEventListener('change', () => {
    syncBudget();
    if (!noBudget.checked) budget.focus();
  });
  syncBudget();
  const problem = h('div', { 'aria-live': 'polite' });
  const form = h('form', { className: 'limits-form', 'aria-label': `Limits of ${label}`, novalidate: true },
    h('p', { className: 'form-title' }, h('strong', {}, `Limits of ${label}`), ' (they apply from its next request)'),
    h('div', { className: 'row' },
      field('Requests per minute', rpm), field('Tokens per minute', tpm),
      h('div', { className: 'field' },
        field('Monthly budget (USD)', budget, 'In dollars, with a decimal point. 0: free requests only.'),
        h('div', { className: 'field inline' }, noBudget, h('label', { for: noBudget.id }, 'No budget (no monthly cap)')))),
    problem,
    h('div', { className: 'actions' },
      h('button', { type: 'submit' }, 'Save limits'),
      h('button', { type: 'button', className: 'secondary', onclick: () => options.onCancel() }, 'Cancel')));
  form.addEventListener('keydown', (event) => {
    if (event.key === 'Escape') options.onCancel();
  });
  const refuse = (message: string, input: HTMLInputElement) => {
    show(problem, notice('error', message));
    input.focus();
  };
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const change: Record<string, number | null> = {};
    for (const [input, name, text] of [[rpm, 'rpm', 'Requests per minute'], [tpm, 'tpm', 'Tokens per minute']] as const) {
      const read = wholeNumber(input, text, LIMIT_MAX[name]);
      if ('problem' in read) return refuse(read.problem, input);
      if (read.value !== key[name]) change[name] = read.value!;
    }
    let microUsd: number | null = null;
    if (!noBudget.checked) {
      const read = dollars(budget, 'Monthly budget');
      if ('problem' in read) return refuse(`${read.problem}${budget.value.trim() === '' ? ' To take the budget away, tick "No budget".' : ''}`, budget);
      microUsd = read.value;
    }
    if (microUsd !== key.monthly_budget_micro_usd) change.monthly_budget_micro_usd = microUsd;
    if (Object.keys(change).length === 0) return show(problem, notice('info', 'Nothing changed: edit a value, or cancel.'));
    let saved: unknown;
    try {
      saved = await call<unknown>(`/admin/keys/${encodeURIComponent(key.id)}`, { method: 'PATCH', body: change, admin: true });
    } catch (error) {
      return show(problem, notice('error', `The limits were not changed: ${messageOf(error)}`));
    }
    if (!isEditableKey(saved)) {
      return show(problem, notice('error', 'The server answered without the key\'s limits, so whether they changed is unknown: reload the page to see the key as it is now.'));
    }
    await options.onSaved(saved);
  });
  return form;
}
