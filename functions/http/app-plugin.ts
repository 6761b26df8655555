/**
 * What a layer above the core adds to the app without the core knowing it (billing today; policies, observability
 * and the console later): middleware around the core routes, route groups that join the one route table (the
 * OpenAPI document and the 405 answers know them), body limits of its own paths, and how its own errors are answered.
 */
import type { RouteConfig } from '@hono/zod-openapi';
import type { MiddlewareHandler } from 'hono';
import type { PathBodyLimit } from './body-limit.js';
import type { AppEnv } from './request-context.js';
import type { RouteGroup } from './route-declaration.js';

export interface PluginMiddleware {
  /** A Hono path pattern, e.g. "/v1/*". */
  path: string;
  handler: MiddlewareHandler<AppEnv>;
  /**
   * What it may answer instead of the route, documented on every operation under `path`; where a route documents the
   * same status, the descriptions are joined (the route's schema wins).
   */
  responses?: RouteConfig['responses'];
  /** Request headers it reads, documented as parameters of every operation under `path`. */
  parameters?: Array<{ name: string; in: 'header'; required?: boolean; description: string; schema: { type: 'string'; example?: string } }>;
  /** Headers it adds to every answer, documented on each response of every operation under `path`. */
  responseHeaders?: Record<string, { description: string; schema: { type: 'string'; example?: string } }>;
  /** Runs before the body limit, so that it sees the 413s too (metrics); it must not read the body. */
  beforeBodyLimit?: boolean;
}

/** Whether a Hono path pattern of a plugin's middleware ("/v1/*", "/healthz") covers an OpenAPI path. */
export function patternCovers(pattern: string, path: string): boolean {
  if (!pattern.endsWith('/*')) return pattern === path;
  const prefix = pattern.slice(0, -2);
  return path === prefix || path.startsWith(`${prefix}/`);
}

export interface AppPlugin {
  /** Runs after request state, CORS and the body limit (before it, those marked beforeBodyLimit), before any route, in this order. */
  middleware?: PluginMiddleware[];
  routes?: RouteGroup[];
  /** Larger body limits than the app's for the plugin's own paths (file uploads), each with its own 413. */
  bodyLimits?: PathBodyLimit[];
  /** The plugin's own errors (billing's BillingError) as their HTTP answers; any other error returned as it is. */
  toApiError?: (error: unknown) => unknown;
}
