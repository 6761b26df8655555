/**
 * A budget typed in US dollars (the console's budget fields, the keys CLI's --budget-usd) as the API's micro-USD, or
 * a message in dollars saying what is wrong with it. Exact: digits are read as text, never through a float, so
 * "2.5.1", "1,5", "5e" or "0.0000001" cannot become some other budget. A comma is refused rather than guessed at:
 * "1,500" is 1500 to some and 1.5 to others.
 */
export type UsdAmount = { microUsd: number } | { problem: string };

/** The API's largest budget (KEY_LIMIT_MAX.monthly_budget_micro_usd), in micro-USD. */
export const MAX_BUDGET_MICRO_USD = 1e12;

const PLAIN_DOLLARS = /^(\d+)(?:\.(\d*))?$|^\.(\d+)$/;

export function usdAmount(typed: string): UsdAmount {
  const text = typed.trim();
  if (text === '') return { problem: 'enter an amount in dollars, such as 25 or 2.50' };
  if (text.startsWith('-')) return { problem: 'must be 0 or more dollars' };
  if (text.includes(',')) return { problem: `"${text}" has a comma: write dollars with a decimal point and no thousands separator (1.5, 1500)` };
  const match = PLAIN_DOLLARS.exec(text);
  if (!match) return { problem: `"${text}" is not an amount in dollars: use digits and at most one decimal point (2.50)` };
  const whole = match[1] ?? '0';
  const cents = match[2] ?? match[3] ?? '';
  if (cents.length > 6 && /[1-9]/.test(cents.slice(6))) {
    return { problem: `"${text}" has more than 6 decimals: the smallest step is $0.000001 (enter 0 for free requests only)` };
  }
  if (whole.replace(/^0+/, '').length > 7) return { problem: 'must be at most $1,000,000' };
  const microUsd = Number(whole) * 1e6 + Number((cents.slice(0, 6) || '0').padEnd(6, '0'));
  if (microUsd > MAX_BUDGET_MICRO_USD) return { problem: 'must be at most $1,000,000' };
  return { microUsd };
}
