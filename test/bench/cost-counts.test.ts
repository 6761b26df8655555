/**
 * The cost model's counts are what the code does (bench/cost): the real Worker in workerd and the Lambda router on
 * dynalite, a few requests each, and the billable operations counted at their bindings and clients. The numbers
 * here are today's metering: at the edge no D1 write per request, the key's object counting the requests and its
 * alarm writing one roll-up row per minute, model, route and status (3 D1 rows: the table keyed by id and its two
 * indexes, migrations/0004_usage_rows_written.sql, and 1 for the key's month; functions/worker/key-usage-meter.ts);
 * on AWS one usage item per request. A change that writes more, or twice, fails here and has to say so, and a change
 * that writes less updates them along with bench/RESULTS.md.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { measureAws, type AwsMeasurement } from '../../bench/cost/aws/measure-aws.js';
import { startDynamoMeter, type DynamoMeter } from '../../bench/cost/aws/dynamo-meter.js';
import { measureEdge, type EdgeMeasurement } from '../../bench/cost/edge/measure-edge.js';
import { costRequests, type RequestKind } from '../../bench/cost/requests.js';
import { documentClient } from '../../functions/billing/dynamo/dynamo-client.js';
import { BILLING_TABLE, USAGE_TABLE } from '../../functions/billing/dynamo/schema.js';
import { startLocalDynamo, type LocalDynamo } from '../billing/local-dynamodb.js';

const COUNTED = 3;
const kinds: RequestKind[] = ['classify-1', 'refused-401', 'refused-429'];
const requests = costRequests(Array.from({ length: 64 }, (_, i) => `text ${i}`)).filter((r) => kinds.includes(r.kind));
const byKind = <T extends { kind: RequestKind }>(list: T[], kind: RequestKind) => list.find((m) => m.kind === kind)!;

describe('the edge counts (the Worker in workerd, Miniflare D1 and Durable Objects)', () => {
  let edge: EdgeMeasurement[];
  beforeAll(async () => {
    edge = await measureEdge(requests, { requests: COUNTED, warmup: 1 });
  }, 180_000);

  // The counted requests' roll-up is one row, or two when they straddle a minute.
  const rollups = (counts: EdgeMeasurement['counts']) => counts.d1.byStatement['INSERT usage']?.queries ?? 0;

  it('one classification in keys mode: one Worker request, one call to its key\'s object, no D1 write of its own; the object\'s alarm writes one roll-up', () => {
    const { counts, statuses } = byKind(edge, 'classify-1');
    expect(statuses).toEqual(Array(COUNTED).fill(200));
    expect(counts.workerRequests).toBe(COUNTED);
    // One take a request (rate limits, the usage record riding on it), and the alarm that wrote the roll-up.
    expect(counts.durableObjects.requests).toBe(COUNTED + 1);
    const n = rollups(counts);
    expect(n === 1 || n === 2).toBe(true);
    expect(counts.d1.byStatement['INSERT usage']).toEqual({ queries: n, rowsRead: 0, rowsWritten: 3 * n }); // the row (WITHOUT ROWID: keyed by id) and its 2 indexes
    expect(counts.d1.byStatement['INSERT key_month_spend']).toMatchObject({ queries: n, rowsWritten: n });
    expect(counts.d1.rowsWritten).toBe(4 * n); // for all COUNTED requests; 4 * COUNTED before the roll-ups
    expect(counts.durableObjects.storageRowsWritten).toBe(0); // the object's storage only holds batches D1 refused
    expect(counts.r2).toEqual({ classA: 0, classB: 0 }); // the models are bundled
  });

  it('an unknown key is refused before any store is written, and its lookup is cached', () => {
    const { counts, statuses } = byKind(edge, 'refused-401');
    expect(statuses).toEqual(Array(COUNTED).fill(401));
    expect(counts.workerRequests).toBe(COUNTED);
    expect(counts.d1.rowsWritten).toBe(0);
    expect(counts.d1.queries).toBeLessThanOrEqual(1); // a lookup again if the 2 s cache ran out
    expect(counts.durableObjects.requests).toBe(0);
  });

  it('a rate-limited request asks its object and is metered in its roll-up (3 rows written for all of them), its key\'s month untouched', () => {
    const { counts } = byKind(edge, 'refused-429');
    expect(counts.durableObjects.requests).toBe(COUNTED + 1);
    const n = rollups(counts);
    expect(n === 1 || n === 2).toBe(true);
    expect(counts.d1.byStatement['INSERT usage']).toEqual({ queries: n, rowsRead: 0, rowsWritten: 3 * n });
    expect(counts.d1.byStatement['INSERT key_month_spend']).toBeUndefined(); // it costs nothing: its month is not written
    expect(counts.d1.rowsWritten).toBe(3 * n);
  });
});

describe('the AWS counts (the Lambda router on dynalite)', () => {
  let aws: AwsMeasurement[];
  beforeAll(async () => {
    aws = await measureAws(requests, { requests: COUNTED, warmup: 1 });
  }, 120_000);

  it('one classification: one write (the take and its record in the key\'s minute item), one round trip, the key read from cache', () => {
    const one = byKind(aws, 'classify-1');
    expect(one.invocations).toBe(COUNTED);
    expect(one.usage.records).toBe(COUNTED); // summed in the key's roll-up
    expect(one.dynamo.byOperation.UpdateItem).toEqual({ calls: COUNTED, readUnits: 0, writeUnits: COUNTED });
    expect(one.dynamo.byOperation.PutItem).toBeUndefined(); // no usage item of its own
    expect(one.dynamo.writeUnits).toBe(COUNTED);
    expect(one.dynamo.indexWriteUnits).toBe(0);
    // One round trip: the take (the previous minute is read beside it). The key, its privacy policy and the traffic
    // routes are read again when their caches (seconds) expire: on a slow machine that may fall in one counted request.
    expect(one.roundTrips.filter((n) => n === 1).length, JSON.stringify(one.roundTrips)).toBeGreaterThanOrEqual(COUNTED - 1);
    // The key, policy and route lookups again when their caches expired (GetItem), in one request at most.
    expect(one.dynamo.byOperation.GetItem?.calls ?? 0).toBeLessThanOrEqual(6);
  });

  it('an unknown key costs no DynamoDB call once its lookup is cached', () => {
    expect(byKind(aws, 'refused-401').dynamo.calls).toBeLessThanOrEqual(1); // a lookup again if the 2 s cache ran out
  });
});

describe('the DynamoDB meter against dynalite', () => {
  let dynamo: LocalDynamo;
  let meter: DynamoMeter;
  beforeAll(async () => {
    dynamo = await startLocalDynamo();
    meter = await startDynamoMeter(dynamo.endpoint, { [dynamo.tables.billing]: BILLING_TABLE, [dynamo.tables.usage]: USAGE_TABLE });
  });
  afterAll(async () => {
    await meter?.close();
    await dynamo?.close();
  });

  it('counts a put by its size, plus one write per index the item is in, and a failed condition as a write', async () => {
    const client = documentClient(meter.endpoint);
    const put = (item: Record<string, unknown>, condition?: string) =>
      client.send(new PutCommand({ TableName: dynamo.tables.usage, Item: item, ConditionExpression: condition }));
    await put({ pk: 'a', sk: '1', note: 'x'.repeat(10) }); // not in byMonth: 1
    await put({ pk: 'a', sk: '2', month: '2026-12', note: 'x'.repeat(10) }); // in byMonth: 1 + 1
    await put({ pk: 'a', sk: '3', month: '2026-12', note: 'x'.repeat(1500) }); // 2 KB: 2 + 2
    expect(meter.units.writeUnits).toBe(1 + 2 + 4);
    expect(meter.units.indexWriteUnits).toBe(1 + 2);
    await expect(put({ pk: 'a', sk: '3', month: '2026-12' }, 'attribute_not_exists(pk)')).rejects.toThrow();
    expect(meter.units.writeUnits).toBe(7 + 2); // charged for the existing 2 KB item
    client.destroy();
  });
});
