/**
 * Reading the keys page's limit fields before anything is sent: a field that holds no whole number (a number input
 * with text it cannot read has the value "", with validity.badInput) or no amount in dollars is a message for the
 * person, in the units they typed, never a value the server would take for something else (no limit, no budget).
 */
import { usdAmount } from './usd-amount.js';

/** The admin API's bounds (KEY_LIMIT_MAX in billing/key-admin.ts). */
export const LIMIT_MAX = { rpm: 1_000_000, tpm: 1_000_000_000 } as const;

export type Read<T> = { value: T } | { problem: string };

/** A whole number from 1 to max; empty reads as `empty` where the field may be left out. */
export function wholeNumber(input: HTMLInputElement, label: string, max: number, empty?: 'leave out'): Read<number | undefined> {
  const text = input.value.trim();
  if (input.validity.badInput) return { problem: `${label}: enter a whole number from 1 to ${max.toLocaleString('en-US')}.` };
  if (text === '' && empty) return { value: undefined };
  if (!/^\d+$/.test(text) || Number(text) < 1 || Number(text) > max) return { problem: `${label}: enter a whole number from 1 to ${max.toLocaleString('en-US')}.` };
  return { value: Number(text) };
}

/** A budget in dollars as micro-USD. */
export function dollars(input: HTMLInputElement, label: string): Read<number> {
  if (input.validity.badInput) return { problem: `${label}: "${input.value}" is not an amount in dollars.` };
  const amount = usdAmount(input.value);
  return 'problem' in amount ? { problem: `${label}: ${amount.problem}.` } : { value: amount.microUsd };
}
