/**
 * The privacy plugin composed with billing, for the entries: billing's store wrapped so that retention=none keeps
 * no idempotent replay, billing's screen (privacyScreen: the policy checked before a replay is looked up), the admin
 * routes told which keys and tenants exist, and the plugin that goes right after billing's in the app's plugins (it
 * reads the key billing accepted).
 */
import type { Billing } from '../billing/billing-middleware.js';
import type { AppPlugin } from '../http/app-plugin.js';
import type { PrivacyPolicy } from './policy.js';
import type { PolicyStore } from './policy-store.js';
import { privacyPlugin, privacyScreen } from './privacy-plugin.js';
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
  const options = {
    ...settings, retention, adminToken,
    subjects: store && {
      tenantOfKey: async (id: string) => (await store.keyById(id))?.tenantId ?? null,
      tenantExists: async (id: string) => (await store.getTenant(id)) !== null,
      keyRevoked: async (id: string) => (await store.keyById(id))?.status === 'revoked',
    },
  };
  const plugin = privacyPlugin(options);
  return { billing: (billing ? { ...billing, store: retention.keepNothingFor(billing.store), screen: privacyScreen(options) } : billing) as B, plugin };
}
