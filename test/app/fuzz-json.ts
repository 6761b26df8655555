/**
 * JSON mutations for the fuzz: wrong types, huge and odd numbers, deep nesting, long strings (under the 1 MiB body
 * limit), unicode and lone surrogates, nulls, extra fields, arrays for objects; then byte-level damage (invalid
 * UTF-8, truncation, trailing garbage). Values JSON.stringify cannot write (1e999, 100,000 levels of nesting) are
 * markers replaced in the text afterwards.
 */
import type { Rng } from './fuzz-random.js';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const MARK = '\u0001raw:';
const raw = (text: string) => `${MARK}${text}`;
const RAW_TEXT: Record<string, (n: number) => string> = {
  arrays: (n) => `${'['.repeat(n)}${']'.repeat(n)}`,
  objects: (n) => `${'{"a":'.repeat(n)}1${'}'.repeat(n)}`,
};

/** Field names of every route's bodies: extra or misplaced fields come from here. */
const FIELDS = ['model', 'input', 'inputs', 'top_k', 'parameters', 'function_to_apply', 'prompt', 'messages', 'role', 'content', 'type', 'text',
  'max_tokens', 'max_completion_tokens', 'temperature', 'top_p', 'seed', 'stop', 'n', 'stream', 'stream_options', 'include_usage',
  'continuous_usage_stats', 'user', 'logprobs', 'tools', 'id', 'tenant', 'name', 'rpm', 'tpm', 'monthly_budget_micro_usd', 'stripe_customer_id',
  '__proto__', 'constructor', 'prototype', 'toString', ''];

const NUMBERS = [0, -0, -1, 1, 2, 0.5, 1.5, 63, 64, 65, 128, 129, 511, 512, 513, 4096, 1e21, 1e308, -1e308, 5e-324, 2 ** 31, 2 ** 32, 2 ** 53 + 2, -(2 ** 53)];
const RAW_NUMBERS = ['1e999', '-1e999', '1E+400', '0.' + '0'.repeat(400) + '1', '123456789012345678901234567890', '-0.0', '1e-999'];
const STRINGS = ['', ' ', '\n', 'NaN', 'Infinity', '-Infinity', 'null', 'true', '0', '-1', '1e999', 'sentiment', 'stories260K', 'sst2-bert@3', 'sst2-bert@999',
  'gpt-4', 'user', 'system', 'assistant', 'tool', 'softmax', 'sigmoid', 'none', 'tanh', '\u0000', '\ud800', '\udfff', '\udbff\udfff', 'a\ud800b',
  '😀'.repeat(50), '\u202eevil', 'e\u0301'.repeat(300), '\u200b'.repeat(200), '\ufeff', '<script>alert(1)</script>', "'; DROP TABLE usage; --",
  '%s%n%x', '../../../../etc/passwd', '${7*7}{{7*7}}', 'cus_x', 'key_0000000000000000', 'em_' + 'x'.repeat(40), '\r\nx-injected: 1'];

/** A string near the body limit (or just long), of text the tokenizers must walk. */
function longString(rng: Rng): string {
  const length = rng.pick([2_000, 20_000, 200_000, 900_000]);
  const unit = rng.pick(['a', 'great movie . ', 'x'.repeat(97) + ' ', '😀', 'ab\u0301 ', '\ud800', 'Once upon a time ']);
  return unit.repeat(Math.ceil(length / unit.length)).slice(0, length);
}

export function nastyValue(rng: Rng, depth = 0): Json {
  switch (rng.int(11)) {
    case 0: return rng.pick(NUMBERS);
    case 1: return raw(rng.pick(RAW_NUMBERS));
    case 2: case 3: return rng.pick(STRINGS);
    case 4: return rng.chance(0.5) ? null : rng.chance(0.5);
    case 5: return depth === 0 ? longString(rng) : rng.pick(STRINGS); // one long string per body at most
    case 6: return depth > 0 ? [[[]]] : raw(`${rng.pick(['arrays', 'objects'])}:${rng.pick([64, 1_000, 10_000, 100_000])}`);
    case 7: return depth > 2 ? [] : Array.from({ length: rng.pick(depth === 0 ? [0, 1, 2, 4, 65, 1_000] : [0, 1, 2, 65]) }, () => (rng.chance(0.7) ? 'a fine film' : nastyValue(rng, depth + 1)));
    case 8: return depth > 2 ? {} : Object.fromEntries(Array.from({ length: rng.int(4) }, () => [rng.pick(FIELDS), nastyValue(rng, depth + 1)]));
    case 9: return [{ role: 'user', content: rng.chance(0.5) ? 'Hi' : nastyValue(rng, depth + 1) }];
    default: return Array.from({ length: rng.pick([1, 4, 65]) }, () => ({ type: 'text', text: rng.pick(STRINGS) }));
  }
}

/** One structural change somewhere in the tree: a field set to a nasty value, removed, added, or a node replaced. */
export function mutateTree(rng: Rng, value: Json, depth = 0): Json {
  if (Array.isArray(value) && value.length > 0 && rng.chance(0.7)) {
    const copy = [...value];
    const at = rng.int(copy.length);
    if (rng.chance(0.2)) copy.splice(at, 1);
    else if (rng.chance(0.2)) copy.push(nastyValue(rng, depth));
    else copy[at] = mutateTree(rng, copy[at]!, depth + 1);
    return copy;
  }
  if (value !== null && typeof value === 'object' && !Array.isArray(value) && rng.chance(0.8)) {
    const copy: Record<string, Json> = { ...value };
    const keys = Object.keys(copy);
    const op = rng.int(4);
    if (op === 0 && keys.length > 0) delete copy[rng.pick(keys)];
    else if (op === 1) copy[rng.pick(FIELDS)] = nastyValue(rng, depth);
    else if (keys.length > 0) {
      const key = rng.pick(keys);
      copy[key] = op === 2 ? nastyValue(rng, depth) : mutateTree(rng, copy[key]!, depth + 1);
    }
    return copy;
  }
  if (depth === 0 && rng.chance(0.3)) return rng.chance(0.5) ? [value] : nastyValue(rng, depth);
  return nastyValue(rng, depth);
}

export function jsonText(value: Json): string {
  return JSON.stringify(value).replace(/"\\u0001raw:([^"]*)"/g, (_all, marker: string) => {
    const [kind, n] = marker.split(':');
    const make = RAW_TEXT[kind!];
    return make ? make(Number(n)) : marker;
  });
}

const BAD_UTF8 = [[0xff], [0xfe, 0xff], [0xc3], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xe2, 0x82], [0x80]];

/** Byte-level damage to a JSON text: invalid UTF-8 in a string, truncation, a BOM, NULs, trailing garbage. */
export function damageBytes(rng: Rng, text: string): Uint8Array {
  const bytes = Buffer.from(text, 'utf8');
  const at = rng.int(bytes.length + 1);
  switch (rng.int(7)) {
    case 0: {
      const quote = bytes.indexOf(0x22, at) >= 0 ? bytes.indexOf(0x22, at) + 1 : at; // inside a string when there is one
      return Buffer.concat([bytes.subarray(0, quote), Buffer.from(rng.pick(BAD_UTF8)), bytes.subarray(quote)]);
    }
    case 1: return bytes.subarray(0, at);
    case 2: return Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), bytes]);
    case 3: return Buffer.concat([bytes.subarray(0, at), Buffer.from([0]), bytes.subarray(at)]);
    case 4: return Buffer.concat([bytes, Buffer.from(rng.pick([' {}', '\n{"input":"x"}', ',', ']', ' // c', '\u0000']))]);
    case 5: {
      const copy = Buffer.from(bytes);
      if (copy.length > 0) copy[at % copy.length] = rng.int(256);
      return copy;
    }
    default: return Buffer.from(rng.pick(['', ' ', 'null', '[]', '"x"', '42', '{', '{"input":', "{'input':'x'}", '{"input":"x",}', 'input=x', '\u0000\u0000']));
  }
}
