/** ?from=&to= as ISO dates (2026-11-01) or date-times with a zone (2026-11-01T12:00:00Z), UTC; by default the month so far. */
import { monthStart } from '../month.js';
import { invalidRequest } from '../../http/errors.js';

const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2}))?$/;

function parseTime(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  const parts = ISO.exec(value);
  const bad = () => invalidRequest(`"${name}" must be an ISO date (2026-11-01) or a date-time with its zone (2026-11-01T12:00:00Z), not "${value.slice(0, 40)}"`, name);
  if (!parts || (parts[4] !== undefined && !/(Z|[+-]\d{2}:\d{2})$/.test(value))) throw bad();
  const [year, month, day] = [Number(parts[1]), Number(parts[2]), Number(parts[3])];
  // Date.parse rolls 2026-02-31 over into March: a real calendar day or nothing.
  const date = new Date(Date.UTC(year, month - 1, day));
  if (date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day || Number(parts[4] ?? 0) > 23 || Number(parts[5] ?? 0) > 59 || Number(parts[6] ?? 0) > 59) throw bad();
  const time = Date.parse(parts[4] === undefined ? `${value}T00:00:00Z` : value);
  if (Number.isNaN(time)) throw bad();
  return time;
}

export function timeRange(query: { from?: string; to?: string }, now: number): { from: number; to: number } {
  const from = parseTime(query.from, 'from', monthStart(now));
  const to = parseTime(query.to, 'to', now + 1);
  if (to <= from) throw invalidRequest('"to" must be after "from"', 'to');
  return { from, to };
}
