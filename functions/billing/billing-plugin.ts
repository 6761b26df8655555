/**
 * Billing as a plugin of the app: API keys, rate limits, budgets, idempotency and metering around the metered
 * routes (/v1/*, /models/*), the usage and admin routes, and billing's errors answered as HTTP. The app's core
 * never imports billing; the entries (node/local-app.ts, worker/index.ts) hand this to createApp.
 */
import type { AppPlugin } from '../http/app-plugin.js';
import { billingMiddleware } from './billing-middleware.js';
import { meteringResponses } from './metering-responses.js';
import { toApiError } from './billing-http-errors.js';
import { adminRoutes, type AdminRouteOptions } from './routes/admin.js';
import { usageRoutes } from './routes/usage.js';

export type BillingPluginOptions = AdminRouteOptions;

export function billingPlugin({ billing, adminToken }: BillingPluginOptions): AppPlugin {
  const metered = billingMiddleware(billing);
  return {
    middleware: [{ path: '/v1/*', handler: metered, responses: meteringResponses }, { path: '/models/*', handler: metered, responses: meteringResponses }],
    routes: [usageRoutes({ billing }), adminRoutes({ billing, adminToken })],
    toApiError,
  };
}
