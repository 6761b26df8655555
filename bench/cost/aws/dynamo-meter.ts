/**
 * A pass-through HTTP proxy in front of a local DynamoDB (dynalite) that counts the read and write units each call
 * consumes, as on-demand DynamoDB bills them: it asks for ReturnConsumedCapacity TOTAL on every call that takes it
 * (dynalite then answers the table's units from the items' sizes), and adds what dynalite does not model:
 * - writes to global secondary indexes (all our indexes project ALL): per index, one write of the item's size
 *   when the item enters, changes in or leaves the index, two when its index key changes (delete and put);
 * - a conditional write whose condition fails still consumes the units of the existing item (at least one).
 * To see an item before and after a write the proxy reads it from dynalite itself (those reads are not counted).
 */
import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import type { TableSchema } from '../../../functions/billing/dynamo/schema.js';

type Item = Record<string, Record<string, unknown>>;
const { itemSize } = createRequire(import.meta.url)('dynalite/db/index.js') as { itemSize(item: Item): number };

export interface DynamoUnits {
  calls: number;
  readUnits: number;
  /** Table and index writes together; `indexWriteUnits` is the index part. */
  writeUnits: number;
  indexWriteUnits: number;
  byOperation: Record<string, { calls: number; readUnits: number; writeUnits: number }>;
}

export const emptyUnits = (): DynamoUnits => ({ calls: 0, readUnits: 0, writeUnits: 0, indexWriteUnits: 0, byOperation: {} });

/** One call as the proxy saw it, in milliseconds since the Unix epoch (comparable across processes on this machine). */
export interface CallSpan {
  operation: string;
  start: number;
  end: number;
}

export const epochMs = () => performance.timeOrigin + performance.now();

export interface DynamoMeter {
  endpoint: string;
  units: DynamoUnits;
  /** Every call since the last reset, in the order they were answered. */
  spans: CallSpan[];
  reset(): void;
  close(): Promise<void>;
}

const WITH_CAPACITY = new Set(['GetItem', 'PutItem', 'UpdateItem', 'DeleteItem', 'Query', 'Scan', 'BatchGetItem', 'BatchWriteItem', 'TransactGetItems', 'TransactWriteItems']);
const kb = (item: Item | undefined) => (item ? Math.ceil(itemSize(item) / 1024) : 0);

/** The items one write call touches: table, key, and (for puts) the new item. */
function writesOf(operation: string, body: Record<string, unknown>): { table: string; key?: Item; put?: Item }[] {
  if (operation === 'PutItem') return [{ table: body.TableName as string, put: body.Item as Item }];
  if (operation === 'UpdateItem' || operation === 'DeleteItem') return [{ table: body.TableName as string, key: body.Key as Item }];
  if (operation === 'BatchWriteItem') {
    return Object.entries(body.RequestItems as Record<string, { PutRequest?: { Item: Item }; DeleteRequest?: { Key: Item } }[]>)
      .flatMap(([table, writes]) => writes.map((w) => ({ table, put: w.PutRequest?.Item, key: w.DeleteRequest?.Key })));
  }
  return [];
}

export async function startDynamoMeter(target: string, schemas: Record<string, TableSchema>): Promise<DynamoMeter> {
  const upstream = new URL(target);
  const units = emptyUnits();
  const spans: CallSpan[] = [];
  const forward = (headers: IncomingHttpHeaders, path: string, body: Buffer) => new Promise<{ status: number; headers: IncomingHttpHeaders; body: Buffer }>((resolve, reject) => {
    const out = request({ host: upstream.hostname, port: upstream.port, method: 'POST', path, headers: { ...headers, 'content-length': String(body.length) } }, (answer) => {
      const parts: Buffer[] = [];
      answer.on('data', (part: Buffer) => parts.push(part));
      answer.on('end', () => resolve({ status: answer.statusCode ?? 500, headers: answer.headers, body: Buffer.concat(parts) }));
    });
    out.on('error', reject);
    out.end(body);
  });
  const keyOf = (table: string, item: Item): Item => {
    const schema = schemas[table]!;
    return Object.fromEntries([schema.partitionKey, ...(schema.sortKey ? [schema.sortKey] : [])].map((name) => [name, item[name]!]));
  };
  const readItem = async (headers: IncomingHttpHeaders, table: string, key: Item): Promise<Item | undefined> => {
    const answer = await forward({ ...headers, 'x-amz-target': 'DynamoDB_20120810.GetItem' }, '/', Buffer.from(JSON.stringify({ TableName: table, Key: key, ConsistentRead: true })));
    return (JSON.parse(answer.body.toString()) as { Item?: Item }).Item;
  };
  const indexWrites = (table: string, before: Item | undefined, after: Item | undefined): number => {
    let total = 0;
    for (const index of schemas[table]?.indexes ?? []) {
      const keyNames = [index.partitionKey, ...(index.sortKey ? [index.sortKey.name] : [])];
      const inIndex = (item: Item | undefined) => !!item && keyNames.every((name) => name in item);
      const sameKey = keyNames.every((name) => JSON.stringify(before?.[name]) === JSON.stringify(after?.[name]));
      if (inIndex(before) && inIndex(after)) total += sameKey ? kb(after) : kb(before) + kb(after);
      else if (inIndex(after)) total += kb(after);
      else if (inIndex(before)) total += kb(before);
    }
    return total;
  };

  const server: Server = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (part: Buffer) => parts.push(part));
    const start = epochMs();
    req.on('end', () => void (async () => {
      const operation = String(req.headers['x-amz-target'] ?? '').split('.').pop()!;
      const body = JSON.parse(Buffer.concat(parts).toString() || '{}') as Record<string, unknown>;
      if (WITH_CAPACITY.has(operation)) body.ReturnConsumedCapacity ??= 'TOTAL';
      const writes = writesOf(operation, body).map((w) => ({ ...w, key: w.key ?? keyOf(w.table, w.put!) }));
      const before = await Promise.all(writes.map((w) => readItem(req.headers, w.table, w.key)));
      const answer = await forward(req.headers, req.url ?? '/', Buffer.from(JSON.stringify(body)));
      const entry = (units.byOperation[operation] ??= { calls: 0, readUnits: 0, writeUnits: 0 });
      units.calls += 1;
      entry.calls += 1;
      const reply = JSON.parse(answer.body.toString() || '{}') as { ConsumedCapacity?: { CapacityUnits?: number } | { CapacityUnits?: number }[]; __type?: string };
      const consumed = [reply.ConsumedCapacity ?? []].flat().reduce((sum, c) => sum + (c.CapacityUnits ?? 0), 0);
      if (writes.length > 0 || operation.startsWith('Transact')) {
        let write = consumed;
        if (answer.status === 200) {
          const after = await Promise.all(writes.map((w) => readItem(req.headers, w.table, w.key)));
          const index = writes.reduce((sum, w, i) => sum + indexWrites(w.table, before[i], after[i]), 0);
          units.indexWriteUnits += index;
          write += index;
        } else if (String(reply.__type).endsWith('ConditionalCheckFailedException')) {
          write = Math.max(1, kb(before[0]));
        }
        units.writeUnits += write;
        entry.writeUnits += write;
      } else {
        units.readUnits += consumed;
        entry.readUnits += consumed;
      }
      spans.push({ operation, start, end: epochMs() }); // before the answer leaves: the client's next call starts after it
      res.writeHead(answer.status, { ...answer.headers, 'content-length': String(answer.body.length) });
      res.end(answer.body);
    })().catch(() => res.destroy()));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    units,
    spans,
    reset: () => {
      Object.assign(units, emptyUnits());
      spans.length = 0;
    },
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
