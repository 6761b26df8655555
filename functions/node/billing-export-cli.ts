/**
 * npm run billing:export -- [--from 2026-11-01] [--to 2026-12-01] > meter-events.jsonl
 * Writes the billed requests of the range (default: this month so far) as Stripe meter events, one per line.
 */
import { parseArgs } from 'node:util';
import { ApiError } from '../http/errors.js';
import { timeRange } from '../billing/routes/time-range.js';
import { roundMicroUsd } from '../registry/pricing.js';
import { exportableRange, stripeMeterEvents, type Unexported } from '../billing/stripe-export.js';
import { runCli, UsageError } from './cli.js';
import { openBilling } from './billing-setup.js';

runCli(async () => {
  const { values } = parseArgs({ options: { from: { type: 'string' }, to: { type: 'string' } } });
  let range: { from: number; to: number };
  try {
    range = timeRange(values, Date.now());
  } catch (error) {
    throw new UsageError(error instanceof ApiError ? error.message : String(error));
  }
  const { billing, close } = await openBilling({ mode: 'keys' });
  try {
    const asked = range.to;
    range = exportableRange(billing.store, range, Date.now());
    if (range.to < asked) console.error(`exported up to ${new Date(range.to).toISOString()}: later roll-ups may still grow (run again from there later)`);
    let count = 0;
    const unexported: Unexported = { records: 0, microUsd: 0 };
    for await (const line of stripeMeterEvents(billing.store, range, unexported)) {
      process.stdout.write(line);
      count++;
    }
    console.error(`${count} meter events from ${new Date(range.from).toISOString()} to ${new Date(range.to).toISOString()}`);
    if (unexported.records > 0) {
      console.error(`left out: ${unexported.records} billed records (${roundMicroUsd(unexported.microUsd)} micro-USD) made without a key or of tenants without a Stripe customer (npm run keys -- tenant <id> --stripe-customer cus_...)`);
    }
    if (unexported.credits) {
      console.error(`not netted: ${unexported.credits.records} corrections (${roundMicroUsd(unexported.credits.microUsd)} micro-USD owed back) of customers with no event in this range to take them from: credit them in Stripe`);
    }
  } finally {
    await close();
  }
});
