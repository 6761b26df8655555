/**
 * What the Lambda router's tests run it against: DynamoDB on 127.0.0.1 (dynalite) with the billing tables and a
 * generation server, started before this file's tests, and the environment the Lambda entry reads (tables, endpoints,
 * ADMIN_TOKEN) in process.env until after them. `throughDynamo` puts something between the router and DynamoDB: the
 * router is given its endpoint, while tests still reach DynamoDB directly. The fields are set once the tests run.
 */
import { afterAll, beforeAll } from 'vitest';
import { startGenerationServer, type RunningGenerationServer } from '../../functions/node/start-generation-server.js';
import { startLocalDynamo, type LocalDynamo } from '../billing/local-dynamodb.js';

export interface LambdaBackends {
  dynamo: LocalDynamo;
  generation: RunningGenerationServer;
  /** The variables set in process.env for the Lambda entry. */
  env: Record<string, string>;
}

interface DynamoProxy {
  endpoint: string;
  close(): Promise<void>;
}

export function useLambdaBackends(adminToken: string, throughDynamo?: (endpoint: string) => Promise<DynamoProxy>): LambdaBackends {
  const backends = {} as LambdaBackends;
  let proxy: DynamoProxy | undefined;
  beforeAll(async () => {
    const dynamo = await startLocalDynamo();
    proxy = await throughDynamo?.(dynamo.endpoint);
    const generation = await startGenerationServer({ port: 0 });
    const env = {
      BILLING_TABLE: dynamo.tables.billing, USAGE_TABLE: dynamo.tables.usage, DYNAMODB_ENDPOINT: proxy?.endpoint ?? dynamo.endpoint,
      GENERATION_UPSTREAM_URL: generation.url, ADMIN_TOKEN: adminToken,
    };
    Object.assign(process.env, env);
    Object.assign(backends, { dynamo, generation, env });
  });
  afterAll(async () => {
    for (const name of Object.keys(backends.env ?? {})) delete process.env[name];
    await backends.generation?.close();
    await proxy?.close();
    await backends.dynamo?.close();
  });
  return backends;
}
