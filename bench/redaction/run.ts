/**
 * npm run bench:redaction: what PII redaction costs a 1 KB prompt (issue 14's target: p50 <= 0.2 ms), beside
 * what the router does to the same text anyway as the peer (a plain copy of the string into bytes, and the
 * JSON.stringify that forwarding it upstream costs). Three prompts of 1,024 characters: plain prose, prose holding
 * six values (one of each kind) and a dense one (numbers, dates, versions: the hard negatives the checks reject).
 * Then the stream mask: the same text cut into 4-character deltas, each passed through the hold-back split.
 * Each figure is the median (and p90) of ROUNDS timed batches of BATCH calls, per call.
 */
import { maskPii } from '../../functions/privacy/pii-detect.js';
import { splitHeld } from '../../functions/privacy/mask-answer.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 200);
const BATCH = Number(process.env.BENCH_BATCH ?? 50);

const fit = (text: string) => text.repeat(Math.ceil(1024 / text.length)).slice(0, 1024);
const PROSE = fit('The film opens on a quiet street where nothing much happens, and then the story slowly finds its feet as the two leads meet. ');
const WITH_PII = (() => {
  const values = ' jane.doe@example.com +44 20 7946 0958 4111 1111 1111 1111 DE89370400440532013000 203.0.113.45 123-45-6789 ';
  const prose = PROSE.slice(0, 1024 - values.length);
  return prose.slice(0, 400) + values + prose.slice(400);
})();
const DENSE = fit('Order #4111-2222-3333-4445 of 2024-01-15T12:30:45Z, v1.2.3, $1,234.56, ISBN 978-3-16-148410-0, 1Z999AA10123456784, 0x7fffffff; ');

let sink = 0;
function measure(run: () => unknown): { p50: number; p90: number } {
  for (let i = 0; i < BATCH * 20; i++) sink += (run() as { length?: number })?.length ?? 1; // warm up the JIT
  const perCall: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const started = performance.now();
    for (let i = 0; i < BATCH; i++) sink += (run() as { length?: number })?.length ?? 1;
    perCall.push((performance.now() - started) / BATCH);
  }
  perCall.sort((a, b) => a - b);
  return { p50: perCall[Math.floor(perCall.length / 2)]!, p90: perCall[Math.floor(perCall.length * 0.9)]! };
}

const encoder = new TextEncoder();
const us = (ms: number) => `${(ms * 1000).toFixed(1)} µs`;
const streamMask = (text: string) => {
  let held = '';
  let out = 0;
  for (let i = 0; i < text.length; i += 4) {
    const [emit, keep] = splitHeld(held + text.slice(i, i + 4), false);
    held = keep;
    out += emit.length;
  }
  return out + splitHeld(held, true)[0].length;
};

console.log(`${ROUNDS} rounds x ${BATCH} calls, per call; ${new Date().toISOString()}`);
console.log('| 1,024 characters | maskPii p50 | p90 | peer: byte copy p50 | peer: JSON.stringify p50 | stream mask (4-char deltas) p50 |');
console.log('|---|---:|---:|---:|---:|---:|');
for (const [name, text] of [['prose, no PII', PROSE], ['prose + 6 values', WITH_PII], ['dense numbers, no PII', DENSE]] as const) {
  if (text.length !== 1024) throw new Error(`${name}: ${text.length} characters`);
  const mask = measure(() => maskPii(text).text);
  const copy = measure(() => encoder.encode(text));
  const json = measure(() => JSON.stringify(text));
  const stream = measure(() => streamMask(text));
  console.log(`| ${name} | ${us(mask.p50)} | ${us(mask.p90)} | ${us(copy.p50)} | ${us(json.p50)} | ${us(stream.p50)} |`);
}
console.log(`masked sample: ${maskPii(WITH_PII).text.slice(395, 470)}`);
if (sink === 0) console.log('');
