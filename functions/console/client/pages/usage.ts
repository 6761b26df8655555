/**
 * Usage of the signed-in key's tenant (or, in open mode, of requests made without a key) from GET /v1/usage: charts
 * of requests, tokens and cost by day, the same by model and a table by key, the month's budget where the admin
 * token tells it, and all of it as CSV.
 */
import { signInFirst } from '../auth-mode.js';
import { call, messageOf } from '../api.js';
import { dayChart } from '../chart.js';
import { field, h, notice, show } from '../dom.js';
import { count, percent, usd } from '../format.js';
import { session } from '../session.js';

interface Row { requests: number; input_tokens: number; output_tokens: number; cost_micro_usd: number; [group: string]: string | number }
interface Report { group_by: string; from: string; to: string; tenant: string | null; data: Row[] }
interface AdminKey { id: string; tenant: string; name: string | null; prefix: string; status: string; monthly_budget_micro_usd: number | null }

const startOfMonth = () => {
  const now = new Date();
  return `${now.getUTCFullYear()}-${String(now.getUTCMonth() + 1).padStart(2, '0')}-01`;
};

const csvCell = (value: string | number) => {
  const text = String(value);
  return /[",\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
};

export function usageCsv(reports: Report[]): string {
  const lines = ['group_by,group,requests,input_tokens,output_tokens,cost_usd'];
  for (const report of reports) {
    for (const row of report.data) {
      lines.push([report.group_by, row[report.group_by] ?? '', row.requests, row.input_tokens, row.output_tokens, (row.cost_micro_usd / 1e6).toFixed(6)].map(csvCell).join(','));
    }
  }
  return `${lines.join('\n')}\n`;
}

function groupTable(report: Report, caption: string, head: string): HTMLElement {
  const largest = Math.max(1, ...report.data.map((r) => r.requests));
  return h('div', { className: 'table-wrap' }, h('table', { className: 'data', 'data-group': report.group_by },
    h('caption', {}, caption),
    h('thead', {}, h('tr', {}, [head, 'Requests', 'Input tokens', 'Output tokens', 'Cost'].map((t) => h('th', { scope: 'col' }, t)))),
    h('tbody', {}, report.data.length === 0
      ? h('tr', {}, h('td', { colspan: 5 }, 'Nothing in this range yet.'))
      : report.data.map((row) => {
        const bar = h('span', { className: 'inline-bar' });
        bar.style.width = `${(100 * row.requests / largest).toFixed(1)}%`;
        const group = String(row[report.group_by]);
        // Requests that ran no model: listings, usage reports (this page's own among them).
        const shown = report.group_by === 'model' && group === '(none)' ? '(no model: listings, usage)' : group;
        return h('tr', {}, h('th', { scope: 'row', 'data-group-value': group }, shown),
          h('td', { 'data-requests': String(row.requests) }, count(row.requests), bar), h('td', {}, count(row.input_tokens)),
          h('td', {}, count(row.output_tokens)), h('td', {}, usd(row.cost_micro_usd)));
      }))));
}

/** This month's cost against the budgets of the tenant's keys (known to the admin API only). */
async function budgetGauge(byKey: Report, tenant: string | null): Promise<HTMLElement> {
  const section = h('section', { className: 'card', 'aria-labelledby': 'budget-heading' }, h('h2', { id: 'budget-heading' }, 'Budget this month'));
  if (!tenant) return (section.append(h('p', {}, 'Requests without a key have no budget.')), section);
  if (!session.adminToken()) return (section.append(h('p', {}, 'The keys\u2019 monthly budgets are known to the admin API: sign in with the admin token too to see them here.')), section);
  try {
    const keys = (await call<{ data: AdminKey[] }>(`/admin/keys?tenant=${encodeURIComponent(tenant)}`, { admin: true })).data;
    const budgets = keys.filter((k) => k.monthly_budget_micro_usd !== null);
    if (budgets.length === 0) return (section.append(h('p', {}, 'No key of this tenant has a monthly budget.')), section);
    const spent = byKey.data.filter((r) => budgets.some((k) => k.id === r.key)).reduce((sum, r) => sum + r.cost_micro_usd, 0);
    const budget = budgets.reduce((sum, k) => sum + k.monthly_budget_micro_usd!, 0);
    section.append(h('meter', { min: 0, max: budget, value: Math.min(spent, budget), low: budget * 0.7, high: budget * 0.9, optimum: 0, 'aria-label': 'Budget used' }),
      h('p', {}, `${usd(spent)} of ${usd(budget)} (${percent(spent / budget)}) used by the ${budgets.length} key${budgets.length === 1 ? '' : 's'} with a budget; it renews on the 1st (UTC).`));
  } catch (error) {
    section.append(notice('error', `The budgets could not be read: ${messageOf(error)}`));
  }
  return section;
}

export async function mountUsage(root: HTMLElement): Promise<void> {
  const first = signInFirst('Usage');
  if (first) return show(root, first);
  const from = h('input', { type: 'date', name: 'from', value: startOfMonth() });
  const to = h('input', { type: 'date', name: 'to' });
  const out = h('div', { 'aria-live': 'polite' });
  const exportButton = h('button', { type: 'button', className: 'secondary', disabled: true }, 'Export CSV');
  let reports: Report[] = [];
  exportButton.addEventListener('click', () => {
    const link = h('a', { href: URL.createObjectURL(new Blob([usageCsv(reports)], { type: 'text/csv' })), download: `usage-${from.value || 'start'}-${to.value || 'now'}.csv` });
    document.body.append(link);
    link.click();
    link.remove();
  });
  const load = async () => {
    show(out, notice('info', 'Loading…'));
    exportButton.disabled = true;
    const range = new URLSearchParams();
    if (from.value) range.set('from', from.value);
    if (to.value) range.set('to', `${to.value}T23:59:59.999Z`);
    try {
      reports = await Promise.all(['day', 'model', 'key'].map((group) => call<Report>(`/v1/usage?${range}&group_by=${group}`)));
    } catch (error) {
      return show(out, notice('error', `The usage could not be read: ${messageOf(error)}`));
    }
    const [byDay, byModel, byKey] = reports as [Report, Report, Report];
    const days = byDay.data.map((r) => String(r.day)).sort();
    const value = (field: 'requests' | 'input_tokens' | 'output_tokens' | 'cost_micro_usd') => days.map((d) => byDay.data.find((r) => r.day === d)![field]);
    const width = Math.max(240, (out.clientWidth || 600) - 28);
    const totals = byDay.data.reduce((t, r) => ({ requests: t.requests + r.requests, tokens: t.tokens + r.input_tokens + r.output_tokens, cost: t.cost + r.cost_micro_usd }), { requests: 0, tokens: 0, cost: 0 });
    show(out,
      h('p', { className: 'meta' }, `${byDay.tenant ? `Tenant ${byDay.tenant}` : 'Requests without a key (open mode)'}, ${byDay.from.slice(0, 10)} to ${byDay.to.slice(0, 10)}: `,
        h('strong', { 'data-total-requests': String(totals.requests) }, `${count(totals.requests)} requests`), `, ${count(totals.tokens)} tokens, ${usd(totals.cost)}.`),
      h('div', { className: 'charts' },
        dayChart({ days, values: value('requests'), label: 'Requests by day', format: (v) => count(Math.round(v)), colour: '#2563eb', integer: true }, width),
        dayChart({ days, values: days.map((d, i) => value('input_tokens')[i]! + value('output_tokens')[i]!), label: 'Tokens by day', format: (v) => count(Math.round(v)), colour: '#7c3aed', integer: true }, width),
        dayChart({ days, values: value('cost_micro_usd'), label: 'Cost by day (micro-USD: millionths of a dollar)', format: (v) => count(Number(v.toPrecision(3))), colour: '#059669' }, width)),
      groupTable(byModel, 'By model', 'Model'),
      groupTable(byKey, 'By key', 'Key'),
      await budgetGauge(byKey, byDay.tenant));
    exportButton.disabled = false;
  };
  const form = h('form', { className: 'card row', 'aria-label': 'Date range' }, field('From', from), field('To', to),
    h('div', { className: 'actions' }, h('button', { type: 'submit' }, 'Show'), exportButton));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void load();
  });
  show(root, form, out);
  await load();
}
