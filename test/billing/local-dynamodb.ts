/**
 * A DynamoDB on 127.0.0.1 for tests: dynalite (an implementation of DynamoDB's API in Node, in memory), reached by
 * the official AWS SDK client exactly as the router reaches DynamoDB on AWS.
 */
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import dynalite from 'dynalite';
import { createBillingTables } from './create-dynamo-tables.js';
import { documentClient } from '../../functions/billing/dynamo/dynamo-client.js';
import type { BillingTableNames } from '../../functions/billing/dynamo/schema.js';

export interface LocalDynamo {
  endpoint: string;
  tables: BillingTableNames;
  client: ReturnType<typeof documentClient>;
  close(): Promise<void>;
}

// The SDK wants credentials and a region even for a local endpoint.
process.env.AWS_ACCESS_KEY_ID ??= 'local';
process.env.AWS_SECRET_ACCESS_KEY ??= 'local';
process.env.AWS_REGION ??= 'us-east-1';
// The SDK warns on Node 20 that releases after January 2027 need Node 22 (Lambda runs 24); once per test file is noise.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

export async function startLocalDynamo(): Promise<LocalDynamo> {
  const server: Server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const client = documentClient(endpoint);
  const tables = { billing: `billing-${process.pid}`, usage: `usage-${process.pid}` };
  await createBillingTables(client, tables);
  return {
    endpoint, tables, client,
    close: async () => {
      client.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
