/**
 * Creating tenants and keys, changing a key's status, limits and budget: shared by the admin API and the keys CLI. Requests arrive as
 * the admin API's JSON fields, unchecked; what is wrong with one is a BillingError naming the field.
 */
import { OPEN_TENANT } from '../http/request-context.js';
import { hashKey, keyPrefix, newApiKey } from './api-keys.js';
import { BillingError } from './billing-errors.js';
import type { ApiKeyRecord, BillingStore, KeyChange, KeyStatus } from './types.js';

const TENANT_ID = /^[a-z0-9][a-z0-9_-]{0,62}$/;

const invalid = (message: string, param: string) => new BillingError('invalid', message, { param });

/** A misspelt field (say "budget_usd") must not pass as a key without a budget: every field is one we read. */
function onlyKnownFields(request: object, known: readonly string[]): void {
  const unknown = Object.keys(request).find((field) => !known.includes(field));
  if (unknown !== undefined) throw invalid(`unknown field "${unknown}": the fields are ${known.map((f) => `"${f}"`).join(', ')}`, unknown);
}

export interface NewTenantRequest {
  id?: unknown;
  stripe_customer_id?: unknown;
}

export interface NewKeyRequest {
  tenant?: unknown;
  name?: unknown;
  rpm?: unknown;
  tpm?: unknown;
  monthly_budget_micro_usd?: unknown;
}

/** Bounds past which a limit means nothing but overflow (1e308 rpm was accepted once). */
export const KEY_LIMIT_MAX = { rpm: 1_000_000, tpm: 1_000_000_000, monthly_budget_micro_usd: 1e12 } as const;

const positiveInt = (value: unknown, name: keyof typeof KEY_LIMIT_MAX, fallback?: number): number => {
  if (value === undefined && fallback !== undefined) return fallback;
  const max = KEY_LIMIT_MAX[name];
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0 || value > max) {
    throw invalid(`"${name}" must be an integer from 1 to ${max.toLocaleString('en-US')}`, name);
  }
  return value;
};

/** The key as the admin API and CLI show it: never its hash. */
export const describeKey = (k: ApiKeyRecord) => ({
  id: k.id, tenant: k.tenantId, name: k.name, prefix: k.prefix, status: k.status, rpm: k.rpm, tpm: k.tpm,
  monthly_budget_micro_usd: k.monthlyBudgetMicroUsd, created_at: new Date(k.createdAt).toISOString(),
});

export interface KeyChangeRequest {
  name?: unknown;
  rpm?: unknown;
  tpm?: unknown;
  monthly_budget_micro_usd?: unknown;
}

const CHANGEABLE = ['name', 'rpm', 'tpm', 'monthly_budget_micro_usd'] as const;

/** null or absent: no budget; 0: a key that may spend nothing (free requests only). */
function budgetOf(value: unknown): number | null {
  if (value === null) return null;
  const max = KEY_LIMIT_MAX.monthly_budget_micro_usd;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0 || value > max) {
    throw invalid(`"monthly_budget_micro_usd" must be an integer from 0 (free requests only) to ${max.toLocaleString('en-US')}, or null for no budget`, 'monthly_budget_micro_usd');
  }
  return value;
}

/** Control characters (NUL, a newline, U+2028) would garble the tables, CSV and logs that show a name. */
const CONTROL = /[\p{Cc}\u2028\u2029]/u;

/** A key's name: null for none; never empty or blank (null says "no name"), nor with control characters. */
function nameOf(value: unknown): string | null {
  if (value === null) return null;
  if (typeof value !== 'string' || value.length > 100) throw invalid('"name" must be a string of at most 100 characters', 'name');
  if (value.trim() === '') throw invalid('"name" must not be empty or blank: give null for a key without a name', 'name');
  if (CONTROL.test(value)) throw invalid('"name" must not contain control characters (such as NUL or a line break)', 'name');
  return value;
}

export async function createTenant(store: BillingStore, request: NewTenantRequest, now: number) {
  onlyKnownFields(request, ['id', 'stripe_customer_id']);
  const { id, stripe_customer_id: stripeCustomerId } = request;
  if (typeof id !== 'string' || !TENANT_ID.test(id)) throw invalid('"id" must be 1-63 lowercase letters, digits, "-" or "_"', 'id');
  if (stripeCustomerId !== undefined && stripeCustomerId !== null && (typeof stripeCustomerId !== 'string' || !/^cus_\w+$/.test(stripeCustomerId))) {
    throw invalid('"stripe_customer_id" must look like cus_...', 'stripe_customer_id');
  }
  if (id === OPEN_TENANT) throw invalid(`"${OPEN_TENANT}" is reserved: it is the tenant of requests made without a key (open mode)`, 'id');
  if (await store.getTenant(id)) throw new BillingError('tenant_exists', `tenant "${id}" exists`, { param: 'id' });
  const tenant = { id, stripeCustomerId: (stripeCustomerId as string | undefined) ?? null, createdAt: now };
  await store.createTenant(tenant);
  return { id: tenant.id, stripe_customer_id: tenant.stripeCustomerId, created_at: new Date(now).toISOString() };
}

export async function createKey(store: BillingStore, request: NewKeyRequest, now: number) {
  onlyKnownFields(request, ['tenant', 'name', 'rpm', 'tpm', 'monthly_budget_micro_usd']);
  if (typeof request.tenant !== 'string') throw invalid('"tenant" must name an existing tenant', 'tenant');
  if (!(await store.getTenant(request.tenant))) throw new BillingError('tenant_unknown', `tenant "${request.tenant}" does not exist; create it first`, { param: 'tenant' });
  const name = request.name === undefined ? null : nameOf(request.name);
  const rpm = positiveInt(request.rpm, 'rpm', 600);
  const tpm = positiveInt(request.tpm, 'tpm', 1_000_000);
  const budget = request.monthly_budget_micro_usd === undefined ? null : budgetOf(request.monthly_budget_micro_usd);
  const key = newApiKey();
  const record: ApiKeyRecord = {
    id: `key_${crypto.randomUUID().replaceAll('-', '').slice(0, 16)}`, tenantId: request.tenant, name,
    prefix: keyPrefix(key), keyHash: await hashKey(key), status: 'active', rpm, tpm, monthlyBudgetMicroUsd: budget, createdAt: now, updatedAt: now,
  };
  await store.createKey(record);
  return { ...describeKey(record), key };
}

export async function setStatus(store: BillingStore, change: { id: string; status: KeyStatus }, now: number) {
  const { id, status } = change;
  const key = await store.keyById(id);
  if (!key) throw new BillingError('key_not_found', `no key "${id}"`, { param: 'id' });
  if (key.status === 'revoked') throw new BillingError('key_already_revoked', `key "${id}" is revoked for good`, { param: 'id' });
  await store.setKeyStatus(id, status, now);
  return describeKey({ ...key, status, updatedAt: now });
}

/**
 * Changes the fields given of a key's name, limits and budget (PATCH semantics: a field left out stays). Whoever
 * caches key lookups (the authenticator) must forget the key's prefix after this.
 */
export async function changeKey(store: BillingStore, id: string, asked: KeyChangeRequest, now: number) {
  // A field set to undefined (the CLI's flags not given) is one left out; JSON has no undefined.
  const request: KeyChangeRequest = Object.fromEntries(Object.entries(asked).filter(([, value]) => value !== undefined));
  onlyKnownFields(request, CHANGEABLE);
  if (Object.keys(request).length === 0) throw new BillingError('invalid', `nothing to change: give one or more of ${CHANGEABLE.map((f) => `"${f}"`).join(', ')}`);
  const change: KeyChange = {};
  if ('name' in request) change.name = nameOf(request.name);
  if ('rpm' in request) change.rpm = positiveInt(request.rpm, 'rpm');
  if ('tpm' in request) change.tpm = positiveInt(request.tpm, 'tpm');
  if ('monthly_budget_micro_usd' in request) change.monthlyBudgetMicroUsd = budgetOf(request.monthly_budget_micro_usd);
  const key = await store.keyById(id);
  if (!key) throw new BillingError('key_not_found', `no key "${id}"`, { param: 'id' });
  const changed = key.status === 'revoked' ? null : await store.changeKey(id, change, now);
  // Revoked before or during the change: a revoked key's limits are no one's concern any more.
  if (!changed) throw new BillingError('key_already_revoked', `key "${id}" is revoked for good`, { param: 'id' });
  return describeKey(changed);
}
