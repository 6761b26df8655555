/**
 * dynalite and the counting proxy (dynamo-meter.ts) in a child process of their own, so that the bench process's
 * CPU time is the router's (handler, app, AWS SDK) and not a local DynamoDB's: Lambda bills DynamoDB's work as
 * waiting, never as the function's CPU. The parent asks for the units and call spans over IPC.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { BillingTableNames } from '../../../functions/billing/dynamo/schema.js';
import type { CallSpan, DynamoUnits } from './dynamo-meter.js';

export interface DynamoProcess {
  /** The proxy: what the router is pointed at (counted). */
  endpoint: string;
  /** dynalite itself: for the bench's own reads (not counted). */
  directEndpoint: string;
  tables: BillingTableNames;
  reset(): Promise<void>;
  read(): Promise<{ units: DynamoUnits; spans: CallSpan[] }>;
  close(): Promise<void>;
}

type Message = { id: number; type: 'reset' | 'read' } ;
type Reply = { id: number; units?: DynamoUnits; spans?: CallSpan[] };

export async function startDynamoProcess(): Promise<DynamoProcess> {
  const child: ChildProcess = fork(fileURLToPath(import.meta.url), ['--child'], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const ready = await new Promise<{ endpoint: string; directEndpoint: string; tables: BillingTableNames }>((resolve, reject) => {
    child.once('message', (m) => resolve(m as { endpoint: string; directEndpoint: string; tables: BillingTableNames }));
    child.once('exit', (code) => reject(new Error(`the local DynamoDB process exited (${code}) before it was ready`)));
  });
  let next = 0;
  const ask = (type: Message['type']) => new Promise<Reply>((resolve) => {
    const id = next++;
    const onMessage = (m: unknown) => {
      if ((m as Reply).id !== id) return;
      child.off('message', onMessage);
      resolve(m as Reply);
    };
    child.on('message', onMessage);
    child.send({ id, type } satisfies Message);
  });
  return {
    ...ready,
    reset: async () => void (await ask('reset')),
    read: async () => {
      const reply = await ask('read');
      return { units: reply.units!, spans: reply.spans! };
    },
    close: () => new Promise<void>((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    }),
  };
}

if (process.argv.includes('--child') && process.send) {
  const { startLocalDynamo } = await import('../../../test/billing/local-dynamodb.js');
  const { BILLING_TABLE, USAGE_TABLE } = await import('../../../functions/billing/dynamo/schema.js');
  const { startDynamoMeter } = await import('./dynamo-meter.js');
  const dynamo = await startLocalDynamo();
  const meter = await startDynamoMeter(dynamo.endpoint, { [dynamo.tables.billing]: BILLING_TABLE, [dynamo.tables.usage]: USAGE_TABLE });
  process.on('message', (m: Message) => {
    if (m.type === 'reset') meter.reset();
    process.send!(m.type === 'read' ? { id: m.id, units: meter.units, spans: meter.spans } : { id: m.id });
  });
  process.on('SIGTERM', () => void Promise.all([meter.close(), dynamo.close()]).finally(() => process.exit(0)));
  process.on('disconnect', () => process.exit(0));
  process.send({ endpoint: meter.endpoint, directEndpoint: dynamo.endpoint, tables: dynamo.tables });
}
