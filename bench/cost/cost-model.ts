/** Counted operations × list prices (prices.ts): dollars per million requests, per runtime and request type, by operation. */
import type { AwsMeasurement, RouterConfig } from './aws/measure-aws.js';
import type { EdgeMeasurement } from './edge/measure-edge.js';
import { DO_MEMORY_GB, DYNAMODB_ROUND_TRIP_MS, LAMBDA_FULL_VCPU_MB, PRICES } from './prices.js';

export interface CostLine {
  operation: string;
  /** Per request. */
  quantity: number;
  unit: string;
  /** Dollars per million requests. */
  usdPerMillion: number;
}

const line = (operation: string, quantity: number, unit: string, unitUsd: number): CostLine =>
  ({ operation, quantity, unit, usdPerMillion: quantity * unitUsd * 1e6 });

export const totalPerMillion = (lines: CostLine[]) => lines.reduce((sum, l) => sum + l.usdPerMillion, 0);

export function edgeCost(m: EdgeMeasurement): CostLine[] {
  const per = (n: number) => n / m.requests;
  const { counts } = m;
  return [
    line('Worker requests', per(counts.workerRequests), 'requests', PRICES.workerRequest.usd),
    // Billed: the isolate's own CPU. The workerd process's also holds Miniflare's D1 and SQLite (billed as D1 rows)
    // and its entry proxy: shown beside it at no price, an upper bound.
    line('Worker CPU (isolate, V8 samples)', per(m.isolateCpuMs), 'CPU ms', PRICES.workerCpuMs.usd),
    line('not billed: workerd process CPU (isolate + Miniflare\'s D1, objects, proxy; upper bound)', per(m.cpuMs), 'CPU ms', 0),
    line('D1 rows written', per(counts.d1.rowsWritten), 'rows', PRICES.d1RowWritten.usd),
    line('D1 rows read', per(counts.d1.rowsRead), 'rows', PRICES.d1RowRead.usd),
    line('DO requests', per(counts.durableObjects.requests), 'requests', PRICES.doRequest.usd),
    line('DO duration', per(counts.durableObjects.wallMs) / 1000 * DO_MEMORY_GB, 'GB-s', PRICES.doGbSecond.usd),
    line('DO storage rows written', per(counts.durableObjects.storageRowsWritten), 'rows', PRICES.doRowWritten.usd),
    line('DO storage rows read', per(counts.durableObjects.storageRowsRead), 'rows', PRICES.doRowRead.usd),
    line('R2 class A', per(counts.r2.classA), 'operations', PRICES.r2ClassA.usd),
    line('R2 class B', per(counts.r2.classB), 'operations', PRICES.r2ClassB.usd),
  ];
}

export const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

/** Lambda's own lines per invocation (text log format), with this invocation's figures. */
export function platformLogBytes(durationMs: number, memoryMb: number): number {
  const id = '8f507cfc-0000-4697-b07a-ac58fc914c95';
  const lines = [
    `START RequestId: ${id} Version: $LATEST\n`,
    `END RequestId: ${id}\n`,
    `REPORT RequestId: ${id}\tDuration: ${durationMs.toFixed(2)} ms\tBilled Duration: ${Math.ceil(durationMs)} ms\tMemory Size: ${memoryMb} MB\tMax Memory Used: 512 MB\t\n`,
  ];
  return lines.reduce((sum, l) => sum + Buffer.byteLength(l), 0);
}

/** The prefix Lambda's Node runtime puts before each console line (timestamp, request id, level). */
const LINE_PREFIX_BYTES = Buffer.byteLength('2026-12-03T12:00:00.000Z\t8f507cfc-0000-4697-b07a-ac58fc914c95\tINFO\t');

/**
 * What Lambda would bill for one invocation at `memoryMb`: the router's CPU time, stretched where the memory buys
 * less than one vCPU, plus its DynamoDB round trips one after another at DynamoDB's latency (not dynalite's).
 */
export const modelledInvocationMs = (cpuMs: number, roundTrips: number, memoryMb: number) =>
  cpuMs * Math.max(1, LAMBDA_FULL_VCPU_MB / memoryMb) + roundTrips * DYNAMODB_ROUND_TRIP_MS;

/** The median invocation's billed duration by the model (each rounded up to 1 ms), and its GB-s. */
export function modelledDuration(m: Pick<AwsMeasurement, 'cpuMs' | 'roundTrips'>, memoryMb: number): { billedMs: number; gbSeconds: number } {
  const billedMs = median(m.cpuMs.map((cpu, i) => Math.ceil(modelledInvocationMs(cpu, m.roundTrips[i]!, memoryMb))));
  return { billedMs, gbSeconds: (billedMs / 1000) * (memoryMb / 1024) };
}

/** Whether the router's Lambda writes its own START/END/REPORT lines (text format, or JSON with system logs at INFO). */
export const platformLinesLogged = (router: RouterConfig) => router.systemLogLevel === undefined || router.systemLogLevel === 'INFO' || router.systemLogLevel === 'DEBUG';

export function awsCost(m: AwsMeasurement, router: RouterConfig): CostLine[] {
  const per = (n: number) => n / m.requests;
  // The median, so that a pause of this shared machine is not priced.
  const { gbSeconds } = modelledDuration(m, router.memoryMb);
  const gbPrice = router.architecture === 'arm64' ? PRICES.lambdaArmGbSecond.usd : PRICES.lambdaX86GbSecond.usd;
  const logBytes = per(m.logBytes + m.logEvents * LINE_PREFIX_BYTES) + (platformLinesLogged(router) ? platformLogBytes(median(m.durationsMs), router.memoryMb) : 0);
  return [
    line('Lambda invocations', per(m.invocations), 'invocations', PRICES.lambdaRequest.usd),
    line(`Lambda duration (${router.memoryMb} MB ${router.architecture}: median of CPU + ${DYNAMODB_ROUND_TRIP_MS} ms a DynamoDB round trip)`, gbSeconds, 'GB-s', gbPrice),
    line('DynamoDB write units', per(m.dynamo.writeUnits), 'WRU', PRICES.dynamoWriteUnit.usd),
    line('DynamoDB read units', per(m.dynamo.readUnits), 'RRU', PRICES.dynamoReadUnit.usd),
    line('CloudWatch log bytes', logBytes, 'bytes', PRICES.logsIngestedGb.usd / 2 ** 30),
  ];
}

/** Workers AI's price for classifying the same input tokens with its DistilBERT classifier. */
export const workersAiPerMillion = (inputTokensPerRequest: number) => inputTokensPerRequest * PRICES.workersAiClassifierInputToken.usd * 1e6;
