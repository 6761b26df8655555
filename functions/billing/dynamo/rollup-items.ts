/**
 * A key's usage roll-up on DynamoDB: one item per key and UTC minute in the usage table, `ru#<key id>#<month>` /
 * `<minute start>`, that is also the key's rate-limit counter for that minute (`r` requests, `t` tokens). A request
 * recorded at admission adds its record to its group's sums in the same UpdateItem that takes its rate limit: one
 * write unit while the item stays under 1 KB. A group is what the edge's roll-ups group by (model, version, path,
 * route, status, replay): attributes `q<h>` requests, `i<h>` and `o<h>` tokens, `c<h>` micro-USD and `d<h>` the
 * group itself (JSON), `<h>` a hash of it. Engine time is not summed (a statistic, never billed).
 * Each write is conditional on its writer lane's sequence number (`w<lane>`: writer-lanes.ts), so a write the SDK
 * retried after DynamoDB had applied it counts once.
 */
import type { UsageRecord } from '../types.js';
import { monthOf } from '../month.js';

export const ROLLUP_MINUTE_MS = 60_000;

export const minuteOf = (at: number) => at - (at % ROLLUP_MINUTE_MS);

export const rollupKey = (keyId: string, minute: number) => ({ pk: `ru#${keyId}#${monthOf(minute)}`, sk: String(minute).padStart(13, '0') });

type Group = Pick<UsageRecord, 'model' | 'modelVersion' | 'path' | 'route' | 'status' | 'idempotentReplay'>;

const describe = (g: Group) => JSON.stringify([g.model, g.modelVersion, g.path, g.route, g.status, g.idempotentReplay]);

/** FNV-1a (32 bits), hex: short attribute names; the group's own JSON is kept beside its sums. */
function hashOf(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0).toString(16).padStart(8, '0');
}

export interface RollupUpdate {
  /** Requests and tokens for the rate limits (negative: taken back). */
  requests?: number;
  tokens?: number;
  /** Records added to their groups' sums; `sign` -1 takes one back (a request that ended otherwise). */
  records?: { record: UsageRecord; sign: 1 | -1 }[];
  /** The writer lane and its sequence number: the write applies once. */
  lane: string;
  seq: number;
  /** Apply only if the lane's last write to the item was this one (taking back a write whose answer was lost). */
  onlyAfter?: number;
}

/** The UpdateItem parameters (less table and key) of one update of a key's minute. */
export function rollupUpdateParams(keyId: string, tenantId: string | null, minute: number, u: RollupUpdate) {
  const names: Record<string, string> = { '#w': `w${u.lane}` };
  const values: Record<string, unknown> = { ':seq': u.seq, ':key': keyId, ':minute': minute, ...(u.onlyAfter !== undefined ? { ':after': u.onlyAfter } : {}) };
  const adds: string[] = [];
  const sets = ['#w = :seq', 'keyId = :key', 'createdAt = :minute'];
  if (tenantId !== null) {
    values[':tenant'] = tenantId;
    sets.push('tenantId = :tenant');
  }
  const add = (attribute: string, value: number) => {
    const i = adds.length;
    names[`#a${i}`] = attribute;
    values[`:a${i}`] = value;
    adds.push(`#a${i} :a${i}`);
  };
  if (u.requests) add('r', u.requests);
  if (u.tokens) add('t', u.tokens);
  const sums = new Map<string, { group: string; q: number; i: number; o: number; c: number }>();
  for (const { record, sign } of u.records ?? []) {
    const group = describe(record);
    const h = hashOf(group);
    const sum = sums.get(h) ?? { group, q: 0, i: 0, o: 0, c: 0 };
    sum.q += sign * (record.requests ?? 1);
    sum.i += sign * record.inputTokens;
    sum.o += sign * record.outputTokens;
    sum.c += sign * record.costMicroUsd;
    sums.set(h, sum);
  }
  for (const [h, sum] of sums) {
    add(`q${h}`, sum.q);
    add(`i${h}`, sum.i);
    add(`o${h}`, sum.o);
    add(`c${h}`, sum.c);
    names[`#d${h}`] = `d${h}`;
    values[`:d${h}`] = sum.group;
    sets.push(`#d${h} = if_not_exists(#d${h}, :d${h})`);
  }
  return {
    UpdateExpression: `SET ${sets.join(', ')}${adds.length ? ` ADD ${adds.join(', ')}` : ''}`,
    ConditionExpression: u.onlyAfter !== undefined ? '#w = :after' : 'attribute_not_exists(#w) OR #w < :seq',
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: values,
  };
}

/** The usage records a roll-up item holds: one per group, with a stable id (`ru.<key>.<minute>.<hash>`). */
export function recordsOfRollup(item: Record<string, unknown>): UsageRecord[] {
  const records: UsageRecord[] = [];
  const minute = item.createdAt as number;
  for (const name of Object.keys(item)) {
    if (!/^d[0-9a-f]{8}$/.test(name)) continue;
    const h = name.slice(1);
    const num = (prefix: string) => (item[`${prefix}${h}`] as number | undefined) ?? 0;
    const [model, modelVersion, path, route, status, idempotentReplay] = JSON.parse(item[name] as string) as [string | null, string | null, UsageRecord['path'], string, number, boolean];
    const requests = num('q');
    // Every request of the group taken back (they ended otherwise): nothing to bill or count. Costs are sums of
    // floating-point micro-USD, so what is under 1e-6 of them is rounding.
    if (requests === 0 && num('i') === 0 && num('o') === 0 && Math.abs(num('c')) < 1e-7) continue;
    records.push({
      id: `ru.${item.keyId as string}.${minute}.${h}`, requestId: 'roll-up', keyId: item.keyId as string, tenantId: item.tenantId as string,
      model, modelVersion, path, route, status, idempotentReplay, inputTokens: num('i'), outputTokens: num('o'), computeMs: 0,
      costMicroUsd: num('c'), createdAt: minute, heldMicroUsd: 0, requests,
    });
  }
  return records;
}
