/**
 * Reads the token usage of an upstream's answer for metering without holding the answer back: a JSON answer is
 * already whole; a stream is split into its server-sent events, each forwarded as soon as it is complete. The
 * router asks upstreams for vLLM's continuous usage (every chunk carries the usage so far), so a stream cut short
 * is billed with the prompt and the tokens it sent. What the client sees keeps OpenAI's shapes: without
 * include_usage no usage at all, with it `"usage":null` on every chunk but the last, usage everywhere only if
 * the client asked for continuous_usage_stats itself. Per event this is a string scan, never a JSON.parse.
 */
import { rewriteSseEvents } from '../http/sse-rewrite.js';
import type { Meter } from '../http/meter.js';
import type { Usage } from '../protocol/completion-shapes.js';
import { upstreamInvalidAnswer } from './upstream-errors.js';

interface UsageJson {
  usage?: Partial<Usage> | null;
}

/** The upstream's JSON answer, metered; a 200 whose body is not a JSON object is a 502, never passed on as a success. */
export async function observeJson(response: Response, meter: Meter): Promise<Response> {
  const bytes = await response.arrayBuffer();
  let answer: unknown;
  try {
    answer = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    answer = undefined;
  }
  if (typeof answer !== 'object' || answer === null || Array.isArray(answer)) {
    throw upstreamInvalidAnswer(`the model's server answered 200 with a body that is not a JSON object (${response.headers.get('content-type') ?? 'no content type'}, ${bytes.byteLength} bytes)`);
  }
  const { usage } = answer as UsageJson;
  if (usage) {
    meter.inputTokens = usage.prompt_tokens ?? meter.inputTokens;
    meter.outputTokens = usage.completion_tokens ?? meter.outputTokens;
  }
  return new Response(bytes, response);
}

/** What the client asked to see of the usage. */
export interface UsageShown {
  /** stream_options.include_usage: the final usage chunk, and `"usage":null` on the others. */
  final: boolean;
  /** stream_options.continuous_usage_stats (with include_usage): the usage so far on every chunk. */
  continuous: boolean;
}

const KEY = '"usage":';
const OBJECT = '"usage":{';
const NULL = '"usage":null';

/**
 * Where the usage object of one event ends (just past its closing brace). A quote inside a JSON string is
 * escaped, so `"usage":{` can only be the key; the usage object holds numbers and nested objects, no strings.
 */
function objectEnd(event: string, open: number): number {
  let depth = 0;
  for (let i = open; i < event.length; i++) {
    const ch = event.charCodeAt(i);
    if (ch === 123) depth++;
    else if (ch === 125 && --depth === 0) return i + 1;
  }
  return -1;
}

const PROMPT = /"prompt_tokens":(\d+)/;
const COMPLETION = /"completion_tokens":(\d+)/;
const count = (usage: string, pattern: RegExp): number | null => {
  const match = pattern.exec(usage);
  return match ? Number(match[1]) : null;
};

/** The event without its `"usage":…` member (from `start` to `end`) and one comma beside it. */
function withoutMember(event: string, start: number, end: number): string {
  if (event[start - 1] === ',') return event.slice(0, start - 1) + event.slice(end);
  return event.slice(0, start) + event.slice(event[end] === ',' ? end + 1 : end);
}

export interface StreamObservation {
  /** Which usage the client asked to see; the rest is taken out of the events it receives. */
  shown: UsageShown;
  /** When the call went upstream, on `now`'s clock: the meter's compute time runs from here to the stream's end. */
  started: number;
  now: () => number;
}

export function observeStream(response: Response, meter: Meter, { shown, started, now }: StreamObservation): Response {
  let sawUsage = false;
  let contentEvents = 0;
  const settle = () => {
    meter.computeMs = now() - started;
    // An upstream that sent no usage at all: bill what the client received, one token per content event.
    if (!sawUsage) meter.outputTokens = contentEvents;
  };

  /** The event as the client should see it, or null to drop it; meters the usage it carries. */
  const shape = (event: string): string | null => {
    const at = event.indexOf(OBJECT);
    if (at >= 0) {
      const end = objectEnd(event, at + KEY.length);
      if (end < 0) return event;
      const usage = event.slice(at + KEY.length, end);
      meter.inputTokens = count(usage, PROMPT) ?? meter.inputTokens;
      meter.outputTokens = count(usage, COMPLETION) ?? meter.outputTokens;
      sawUsage = true;
      if (shown.continuous) return event;
      if (event.includes('"choices":[]')) return shown.final ? event : null; // the final usage chunk
      return shown.final ? event.slice(0, at) + NULL + event.slice(end) : withoutMember(event, at, end);
    }
    if (!sawUsage && /"(text|content)":"[^"]/.test(event)) contentEvents++;
    if (!shown.final) {
      const empty = event.indexOf(NULL);
      if (empty >= 0) return withoutMember(event, empty, empty + NULL.length);
    }
    return event;
  };

  const body = rewriteSseEvents(response.body!, {
    event: (event) => shape(event) ?? '',
    end: (rest) => {
      settle();
      return rest;
    },
    stopped: settle,
  });
  return new Response(body, response);
}
