/**
 * The privacy plugin composed with billing, for the entries: billing's store wrapped so that retention=none keeps
 * no idempotent replay, the admin routes told which keys and tenants exist, and the plugin that goes right after
 * billing's in the app's plugins (it reads the key billing accepted).
 */
import type { Billing } from '../billing/billing-middleware.js';
import type { AppPlugin } from '../http/app-plugin.js';
import type { PrivacyPolicy } from './policy.js';
import type { PolicyStore } from './policy-store.js';
import { privacyPlugin } from './privacy-plugin.js';
import type { LocateRequest } from './regions.js';
import { RetentionGuard } from './retention.js';

export interface PrivacySettings {
  store: PolicyStore;
  /** The policy of keyless requests and of keys and tenants without one (default: pii off, retention standard). */
  defaults?: PrivacyPolicy;
  /** The regions a key may be pinned to (regions.ts servedRegions). */
  regions?: readonly string[];
  /** Where each request is processed (a fixed region in Node, the Cloudflare location in the Worker). */
  locate?: LocateRequest;
}

export function withPrivacy<B extends Billing | undefined>(billing: B, settings: PrivacySettings, adminToken?: string): { billing: B; plugin: AppPlugin } {
  const retention = new RetentionGuard();
  const store = billing?.store;
  const plugin = privacyPlugin({
    ...settings, retention, adminToken,
    subjects: store && {
      tenantOfKey: async (id) => (await store.keyById(id))?.tenantId ?? null,
      tenantExists: async (id) => (await store.getTenant(id)) !== null,
    },
  });
  return { billing: (billing ? { ...billing, store: retention.keepNothingFor(billing.store) } : billing) as B, plugin };
}
