/**
 * List prices the cost model multiplies the counted operations by: US dollars, pay-as-you-go, before free tiers and
 * included allowances (a busy deployment has used those up), Workers Paid plan, AWS us-east-1, on-demand DynamoDB.
 * `source` says where each figure is from: "issue 16" where its text states it (filed from the vendors' pages), a
 * vendor's pricing page otherwise. They were not re-read from the live pages on `asOf`: check them before quoting.
 */
export interface Price {
  usd: number;
  /** What `usd` buys. */
  per: string;
  source: string;
}

export const PRICES_AS_OF = '2026-12-03';

const CF_WORKERS = 'https://developers.cloudflare.com/workers/platform/pricing/';
const CF_D1 = 'https://developers.cloudflare.com/d1/platform/pricing/';
const CF_DO = 'https://developers.cloudflare.com/durable-objects/platform/pricing/';
const CF_R2 = 'https://developers.cloudflare.com/r2/pricing/';
const CF_AI = 'https://developers.cloudflare.com/workers-ai/platform/pricing/';
const AWS_LAMBDA = 'https://aws.amazon.com/lambda/pricing/';
const AWS_DYNAMO = 'https://aws.amazon.com/dynamodb/pricing/on-demand/';
const AWS_LOGS = 'https://aws.amazon.com/cloudwatch/pricing/';

export const PRICES = {
  workerRequest: { usd: 0.30 / 1e6, per: 'request', source: `issue 16; ${CF_WORKERS}` },
  workerCpuMs: { usd: 0.02 / 1e6, per: 'CPU ms', source: `issue 16; ${CF_WORKERS}` },
  d1RowRead: { usd: 0.001 / 1e6, per: 'row read', source: `brief of issue 16; ${CF_D1}` },
  d1RowWritten: { usd: 1.0 / 1e6, per: 'row written', source: `issue 16; ${CF_D1}` },
  doRequest: { usd: 0.15 / 1e6, per: 'request (stub call or alarm)', source: `issue 16; ${CF_DO}` },
  doGbSecond: { usd: 12.5 / 1e6, per: 'GB-s of an active object (128 MB each)', source: CF_DO },
  // SQLite-backed objects (wrangler.toml's new_sqlite_classes) bill storage as D1 does, by rows.
  doRowRead: { usd: 0.001 / 1e6, per: 'storage row read', source: CF_DO },
  doRowWritten: { usd: 1.0 / 1e6, per: 'storage row written', source: CF_DO },
  r2ClassA: { usd: 4.5 / 1e6, per: 'class A operation (put, list)', source: CF_R2 },
  r2ClassB: { usd: 0.36 / 1e6, per: 'class B operation (get, head)', source: CF_R2 },
  lambdaRequest: { usd: 0.20 / 1e6, per: 'invocation', source: AWS_LAMBDA },
  lambdaArmGbSecond: { usd: 0.0000133334, per: 'GB-s, arm64 (first 7.5 billion GB-s a month)', source: AWS_LAMBDA },
  lambdaX86GbSecond: { usd: 0.0000166667, per: 'GB-s, x86_64 (first 6 billion GB-s a month)', source: AWS_LAMBDA },
  dynamoWriteUnit: { usd: 0.625 / 1e6, per: 'write request unit (on-demand)', source: `issue 16; ${AWS_DYNAMO}` },
  dynamoReadUnit: { usd: 0.125 / 1e6, per: 'read request unit (on-demand)', source: `brief of issue 16; ${AWS_DYNAMO}` },
  logsIngestedGb: { usd: 0.50, per: 'GB of CloudWatch Logs ingested (standard class)', source: AWS_LOGS },
  /** Workers AI's DistilBERT classifier (@cf/huggingface/distilbert-sst-2-int8), by input tokens. */
  workersAiClassifierInputToken: { usd: 0.026 / 1e6, per: 'input token', source: `issue 16; ${CF_AI}` },
} satisfies Record<string, Price>;

/** Durable Objects bill duration for 128 MB per object, whatever it uses. */
export const DO_MEMORY_GB = 0.128;

/**
 * The latency the cost model charges per DynamoDB round trip in a Lambda invocation's critical path (dynalite's own
 * latency on this machine is not DynamoDB's). AWS documents "single-digit millisecond performance at any scale"
 * (https://aws.amazon.com/dynamodb/) and, for GetItem and PutItem, "an average latency in single-digit milliseconds"
 * (https://repost.aws/knowledge-center/dynamodb-high-latency), both read as of 2026-12-04: 5 ms, the middle of that range.
 */
export const DYNAMODB_ROUND_TRIP_MS = 5;

/** Lambda gives a function one full vCPU at 1,769 MB and a share in proportion below it (Lambda's memory and compute docs). */
export const LAMBDA_FULL_VCPU_MB = 1769;
