/**
 * `npm run bench:cost`: what one request costs us, counted from the code. Each request type (requests.ts) is sent
 * to the real Worker in workerd (Miniflare's D1, Durable Objects, R2) and to the Lambda router on dynalite; the
 * billable operations they perform are counted at the bindings and clients (edge/edge-counters.ts,
 * aws/dynamo-meter.ts), multiplied by the dated list prices in prices.ts, and written to bench/RESULTS.md next to
 * Workers AI's price for the same work and our registry price. BENCH_REQUESTS (default 20) sets the requests of each
 * type that are counted, after 2 of the same type that warm the caches (models, key lookups) and are not.
 */
import { devSentences } from '../classify/sentences.js';
import { writeResultsSection } from '../common/results.js';
import { measureAws, routerConfig, type AwsMeasurement, type RouterConfig } from './aws/measure-aws.js';
import { awsDurationReading } from './aws/duration-reading.js';
import { awsCost, edgeCost, totalPerMillion, workersAiPerMillion, type CostLine } from './cost-model.js';
import { measureEdge, type EdgeMeasurement } from './edge/measure-edge.js';
import { PRICES, PRICES_AS_OF } from './prices.js';
import { costRequests, type CostRequest } from './requests.js';

const usd = (value: number) => (value === 0 ? '0' : value < 0.01 ? value.toFixed(4) : value < 10 ? value.toFixed(3) : value.toFixed(2));
const qty = (value: number) => (Number.isInteger(value) ? String(value) : value < 0.001 ? value.toExponential(2) : value.toFixed(3));

function breakdown(title: string, requests: CostRequest[], lines: CostLine[][]): string {
  const header = `| ${title} | ${requests.map((r) => r.label).join(' | ')} |\n|---|${requests.map(() => '---:').join('|')}|`;
  const rows = lines[0]!.map((_, i) => `| ${lines[0]![i]!.operation} (${lines[0]![i]!.unit}) | ${lines.map((l) => `${qty(l[i]!.quantity)} → $${usd(l[i]!.usdPerMillion)}`).join(' | ')} |`);
  const total = `| **total, $ per million requests** | ${lines.map((l) => `**$${usd(totalPerMillion(l))}**`).join(' | ')} |`;
  return [header, ...rows, total].join('\n');
}

function largest(lines: CostLine[]): string {
  const total = totalPerMillion(lines);
  const top = [...lines].sort((a, b) => b.usdPerMillion - a.usdPerMillion).slice(0, 2);
  return top.map((l) => `${l.operation} ${Math.round((100 * l.usdPerMillion) / total)} %`).join(', ');
}

export function costReport(requests: CostRequest[], edge: EdgeMeasurement[], aws: AwsMeasurement[], router: RouterConfig, counted: number): string {
  const edgeLines = edge.map(edgeCost);
  const awsLines = aws.map((m) => awsCost(m, router));
  const summary = requests.map((r, i) => {
    const usage = aws[i]!.usage;
    const tokens = usage.records ? usage.inputTokens / usage.records : 0;
    const ours = usage.records ? (usage.costMicroUsd / usage.records) : 0; // micro-dollars per request = dollars per million
    const ai = r.kind.startsWith('classify') ? `$${usd(workersAiPerMillion(tokens))} (${qty(tokens)} tokens)` : 'n/a';
    return `| ${r.label} | $${usd(totalPerMillion(edgeLines[i]!))} | $${usd(totalPerMillion(awsLines[i]!))} | ${ai} | $${usd(ours)} |`;
  });
  const one = 0;
  const oneEdge = edge[one]!;
  const rollups = oneEdge.counts.d1.byStatement['INSERT usage']?.queries ?? 0;
  const rowsPerRollup = rollups ? oneEdge.counts.d1.rowsWritten / rollups : 0;
  // The same request at a steady R requests per key and flush window: the roll-up's rows and its alarm shared by R.
  const edgeLine = (name: string) => edgeLines[one]!.find((l) => l.operation === name)!.usdPerMillion;
  const perFlushUsd = rowsPerRollup * PRICES.d1RowWritten.usd * 1e6 + PRICES.doRequest.usd * 1e6;
  const measuredFlushUsd = edgeLine('D1 rows written') + (rollups / counted) * PRICES.doRequest.usd * 1e6;
  const steady = (r: number) => totalPerMillion(edgeLines[one]!) - measuredFlushUsd + perFlushUsd / r;
  const reading = [
    `- Edge, one text: $${usd(totalPerMillion(edgeLines[one]!))} per million; largest: ${largest(edgeLines[one]!)}. `
      + `No D1 write per request: the key's object counted the ${counted} requests and its alarm wrote them as ${rollups} roll-up row${rollups === 1 ? '' : 's'} `
      + `(${Object.entries(oneEdge.counts.d1.byStatement).filter(([, st]) => st.rowsWritten).map(([name, st]) => `${name}: ${qty(st.rowsWritten)}`).join(', ')} D1 rows in all; indexes count as rows written), `
      + `${qty(oneEdge.counts.d1.rowsWritten / counted)} rows a request here (4 before the roll-ups). A roll-up is shared by the key's requests of one 5 s window: `
      + `at a steady 100 requests per key per window (20 a second) the same request costs $${usd(steady(100))}, at 1,000 $${usd(steady(1000))}; a key with one request per window pays a whole roll-up and its alarm ($${usd(steady(1))}).`,
    `- Calls to the key's object: ${qty(oneEdge.counts.durableObjects.requests / counted)} a one-text classification (its take carries its record: one call, the rest is its share of the roll-up's alarm; 2.05 when take and record were two calls), `
      + `${qty(edge[requests.findIndex((r) => r.kind === 'stream')]!.counts.durableObjects.requests / counted)} a streamed generation (take, then record: its use is known at its end), ${qty(edge[requests.findIndex((r) => r.kind === 'refused-400')]!.counts.durableObjects.requests / counted)} a 400. `
      + `The floor of a classification is now the Worker request and one call ($${usd((PRICES.workerRequest.usd + PRICES.doRequest.usd) * 1e6)}) before CPU and the roll-up's share.`,
    `- AWS, one text: $${usd(totalPerMillion(awsLines[one]!))} per million; largest: ${largest(awsLines[one]!)}. `
      + `${qty(aws[one]!.dynamo.writeUnits / counted)} write units a request (${Object.entries(aws[one]!.dynamo.byOperation).filter(([, st]) => st.writeUnits).map(([op, st]) => `${op}: ${qty(st.writeUnits / counted)}`).join(', ')}; ${qty(aws[one]!.dynamo.indexWriteUnits / counted)} of them index writes).`,
    awsDurationReading(aws[one]!, aws[1]!, router),
    `- 64 texts in one request: edge $${usd(totalPerMillion(edgeLines[1]!))}, largest ${largest(edgeLines[1]!)}; AWS $${usd(totalPerMillion(awsLines[1]!))}, largest ${largest(awsLines[1]!)}: `
      + 'inference (Worker CPU, Lambda duration) grows with the texts, metering stays one usage record per request.',
    `- Worker CPU billed here is the isolate's own: ${qty(oneEdge.isolateCpuMs / counted)} ms for one text (V8's sampling profiler through wrangler dev's inspector, each sample at most one sampling period; '(idle)' left out, workerd's C++ work for the isolate ('(program)') counted; the objects' JavaScript is in it, since Miniflare runs them in the Worker's isolate). `
      + `The workerd process spent ${qty(oneEdge.cpuMs / counted)} ms (from /proc, shown unpriced): the rest is Miniflare's D1 and SQLite work, which Cloudflare bills as D1 rows, and its entry proxy. `
      + 'By function (`node --experimental-websocket --import tsx bench/cost/edge/profile-cpu.ts`, 100 requests) 55-60 % of the isolate\'s samples are the engine\'s WebAssembly, the rest Hono\'s routing and Response, URL parsing and the app\'s JS; billing\'s own functions are under 1 % each.',
    '- D1 bills each index a write touches as one more row written (the rows_written D1 reports), so a usage row costs as many rows as `usage` has indexes plus one.',
    `- Refused requests that reach metering (429, 400) are counted in the key's roll-up as answered ones are (one call to its object, their record riding on the take, and their share of the roll-up). A 401 for an unknown key costs ${usd(totalPerMillion(edgeLines[requests.findIndex((r) => r.kind === 'refused-401')]!))} $/M at the edge (the key lookup, negative answers included, is cached for 10 s per isolate).`,
    '- Under $0.50 (not built: its loss tests could not be written and pass in this session): fewer than one call to the key\'s object a request. (a) **Leases**: an isolate takes k requests\' admission from the object at once (k request tokens, k texts\' worth of tpm, k times the largest hold of the budget) and admits locally until it is spent or L seconds pass; the renewal carries the records of the lease\'s requests, so k requests cost one call. Risks: a lease is capacity other isolates cannot use (rpm exact across isolates only to within k per holding isolate; a key with 1 rpm must never be leased), budgets overspent by nothing but under-used by the unspent leases until they expire or return, and records held in the isolate between renewals are lost if it is evicted, unless each request\'s waitUntil covers the send that carries its record. (b) **Batched records** under waitUntil: the first record of a window starts a short timer in its request\'s waitUntil and sends every record of that key the isolate got meanwhile in one `record` call (the call is that request\'s I/O, so no request awaits another\'s, which workerd refuses); this cuts streamed generation and refusals (two calls today), not classifications, whose record already rides on the take. Both help only where one isolate sees several requests of one key within a window: a busy key in one data center, not a long tail of keys. The same at the store: a roll-up costs 4 D1 rows (3 for the usage row and its indexes, 1 for the key\'s month), so the D1 share falls as 4/(requests per key per 5 s window).',
    `- Workers AI's DistilBERT: $0.026 per million input tokens, $${usd(workersAiPerMillion(32))} per million 32-token requests (issue 16's reference).`,
  ];
  return [
    `Measured ${new Date().toISOString().slice(0, 10)}: \`BENCH_REQUESTS=${counted} npm run bench:cost\` (${counted} requests of each type counted, after 2 uncounted warm-up requests; one key, sequential requests; at the edge with the key object's roll-up flush that follows them). `
      + `List prices as of ${PRICES_AS_OF} (bench/cost/prices.ts, with sources; before free tiers). Our price: what metering recorded for the same requests (models/registry.json).`,
    '',
    '| request | edge (Worker + D1 + DO) $/M | AWS (Lambda + DynamoDB + logs) $/M | Workers AI $/M, same tokens | our price $/M (registry) |',
    '|---|---:|---:|---:|---:|',
    ...summary,
    '',
    breakdown('edge: operation (unit), per request → $/M', requests, edgeLines),
    '',
    breakdown('AWS: operation (unit), per request → $/M', requests, awsLines),
    '',
    '**Reading.**',
    ...reading,
    '',
    'How it is counted: Worker CPU is the Worker isolate\'s CPU over the counted requests and their roll-up flush (V8 samples at 100 µs, bench/cost/edge/isolate-profiler.ts); the workerd process\'s CPU (from /proc) beside it also holds Miniflare\'s local D1 and the local entry proxy: an upper bound, not priced. '
      + 'DO duration is the wall time of each stub call as the Worker sees it (128 MB per object; a lower bound: an object that cannot hibernate bills until idle). '
      + `Lambda duration: each invocation's CPU time in this process (process.cpuUsage; dynalite and the counting proxy run in a child process, the generation server of streams in this one), stretched by 1,769/memory below one vCPU, plus its sequential DynamoDB round trips (the proxy's call spans) at 5 ms each; the median invocation, rounded up to 1 ms, at the router's configured ${router.memoryMb} MB (infra/lib/router-function.ts), on a CPU shared with other work. Log bytes: Lambda's START/END/REPORT lines only where the router logs them (text format, or JSON with system logs at INFO). `
      + 'DynamoDB units come from dynalite\'s ConsumedCapacity plus the index writes it does not model (aws/dynamo-meter.ts). '
      + 'Streamed generation excludes the GPU service (its Lambda duration includes waiting for the local CPU generation server). '
      + `Prices: Workers $${PRICES.workerRequest.usd * 1e6}/M requests and $${PRICES.workerCpuMs.usd * 1e6}/M CPU-ms, D1 $${PRICES.d1RowWritten.usd * 1e6}/M rows written, DO $${PRICES.doRequest.usd * 1e6}/M requests, Lambda $${PRICES.lambdaRequest.usd * 1e6}/M requests, DynamoDB $${PRICES.dynamoWriteUnit.usd * 1e6}/M write units.`,
  ].join('\n');
}

if (process.argv[1]?.endsWith('run.ts')) {
  const counted = Number(process.env.BENCH_REQUESTS ?? 20);
  const requests = costRequests(await devSentences(64));
  console.log(`edge: the Worker in workerd, ${requests.length} request types x (2 + ${counted}) requests`);
  const edge = await measureEdge(requests, { requests: counted, warmup: 2 });
  console.log('AWS: the Lambda router on dynalite');
  const aws = await measureAws(requests, { requests: counted, warmup: 2 });
  const report = costReport(requests, edge, aws, await routerConfig(), counted);
  console.log(report);
  await writeResultsSection('cost', 'Cost per request (`npm run bench:cost`)', report);
  process.exit(0); // the AWS SDK's sockets and the app's timers would keep the process up
}
