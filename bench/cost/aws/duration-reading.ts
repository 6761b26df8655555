/** The reading of the AWS Lambda duration: the model (CPU + round trips) beside dynalite's wall time, and memory sizes. */
import { median, modelledDuration, platformLinesLogged } from '../cost-model.js';
import { DYNAMODB_ROUND_TRIP_MS, PRICES } from '../prices.js';
import type { AwsMeasurement, RouterConfig } from './measure-aws.js';

const ms = (v: number) => (v < 10 ? v.toFixed(1) : v.toFixed(0));

export function awsDurationReading(one: AwsMeasurement, many: AwsMeasurement, router: RouterConfig): string {
  const price = router.architecture === 'arm64' ? PRICES.lambdaArmGbSecond.usd : PRICES.lambdaX86GbSecond.usd;
  const at = (m: AwsMeasurement, mb: number) => {
    const { billedMs, gbSeconds } = modelledDuration(m, mb);
    return `${mb} MB ${billedMs} ms $${(gbSeconds * price * 1e6).toFixed(3)}`;
  };
  return `- AWS Lambda duration, one text: the router's own CPU ${ms(median(one.cpuMs))} ms (median) and ${median(one.roundTrips)} DynamoDB round trip${median(one.roundTrips) === 1 ? '' : 's'} `
    + `in the critical path, billed as CPU + ${DYNAMODB_ROUND_TRIP_MS} ms a round trip: ${at(one, router.memoryMb)} per million (over dynalite the same invocations took ${ms(median(one.durationsMs))} ms of wall time, most of it dynalite's own latency). `
    + `By memory (the same model): ${[512, 1024, 1769].map((mb) => at(one, mb)).join(', ')}; 64 texts: ${[512, 1024, 1769].map((mb) => at(many, mb)).join(', ')}. `
    + `Up to 1,769 MB (one vCPU) the CPU part costs the same GB-s at any size and the waiting costs less with less memory: the router runs at ${router.memoryMb} MB. `
    + `Logs: ${platformLinesLogged(router) ? 'Lambda\'s START/END/REPORT lines are logged' : `JSON format with Lambda's own lines at ${router.systemLogLevel}: no START/END/REPORT lines, ${Math.round(one.logBytes / one.requests)} bytes a request of the router's own`}.`;
}
