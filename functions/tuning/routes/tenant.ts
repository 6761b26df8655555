/** Whose records a request reads and writes: its API key's tenant, or the open tenant without keys. */
import type { Context } from 'hono';
import type { AppEnv } from '../../http/request-context.js';
import { OPEN_TENANT } from '../tuning-types.js';

export const callerTenant = (c: Context<AppEnv>): string => c.get('apiKey')?.tenantId ?? OPEN_TENANT;

export const caller = (c: Context<AppEnv>): { tenantId: string; keyId: string | null } => ({ tenantId: callerTenant(c), keyId: c.get('apiKey')?.id ?? null });
