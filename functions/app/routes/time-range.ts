/** ?from=&to= as ISO dates or times (UTC); by default the current month so far. */
import { monthStart } from '../../billing/budget-guard.js';
import { invalidRequest } from '../errors.js';

function parseTime(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  const time = Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T00:00:00Z` : value);
  if (Number.isNaN(time)) throw invalidRequest(`"${name}" must be an ISO date (2026-11-01) or date-time`, name);
  return time;
}

export function timeRange(query: { from?: string; to?: string }, now: number): { from: number; to: number } {
  const from = parseTime(query.from, 'from', monthStart(now));
  const to = parseTime(query.to, 'to', now + 1);
  if (to <= from) throw invalidRequest('"to" must be after "from"', 'to');
  return { from, to };
}
