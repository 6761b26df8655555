/**
 * Reads the token usage of an upstream's answer for metering without holding the answer back: a JSON answer is
 * already whole; a stream is split into its server-sent events, each forwarded as soon as it is complete. The
 * router always asks upstreams for the final usage chunk; when the client did not, that chunk is dropped.
 */
import type { Meter } from '../../billing/meter.js';

interface UsageJson {
  usage?: { prompt_tokens?: number; completion_tokens?: number } | null;
  choices?: unknown[];
}

function takeUsage(meter: Meter, json: UsageJson): boolean {
  if (!json.usage) return false;
  meter.inputTokens = json.usage.prompt_tokens ?? meter.inputTokens;
  meter.outputTokens = json.usage.completion_tokens ?? meter.outputTokens;
  return true;
}

export async function observeJson(response: Response, meter: Meter): Promise<Response> {
  const bytes = await response.arrayBuffer();
  try {
    takeUsage(meter, JSON.parse(new TextDecoder().decode(bytes)) as UsageJson);
  } catch {
    // not JSON: nothing to meter beyond the request
  }
  return new Response(bytes, response);
}

export function observeStream(response: Response, meter: Meter, clientWantsUsage: boolean, started: number, now: () => number): Response {
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  const encoder = new TextEncoder();
  let pending = '';
  let sawUsage = false;
  let contentEvents = 0;
  const settle = () => {
    meter.computeMs = now() - started;
    // Cut short before the usage chunk: bill what the client received, one token per content event.
    if (!sawUsage) meter.outputTokens = contentEvents;
  };
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      for (;;) {
        let result: ReadableStreamReadResult<Uint8Array>;
        try {
          result = await reader.read();
        } catch (error) {
          settle();
          controller.error(error);
          return;
        }
        if (result.done) {
          if (pending) controller.enqueue(encoder.encode(pending));
          settle();
          controller.close();
          return;
        }
        pending += decoder.decode(result.value, { stream: true });
        let out = '';
        let end: number;
        while ((end = pending.indexOf('\n\n')) >= 0) {
          const event = pending.slice(0, end + 2);
          pending = pending.slice(end + 2);
          if (event.includes('"usage":{')) {
            try {
              const json = JSON.parse(event.replace(/^data: /, '')) as UsageJson;
              sawUsage = takeUsage(meter, json) || sawUsage;
              if (!clientWantsUsage && Array.isArray(json.choices) && json.choices.length === 0) continue;
            } catch {
              // pass it on untouched
            }
          } else if (/"(text|content)":"[^"]/.test(event)) contentEvents++;
          out += event;
        }
        if (out) {
          controller.enqueue(encoder.encode(out));
          return;
        }
      }
    },
    cancel(reason) {
      settle();
      return reader.cancel(reason);
    },
  });
  return new Response(body, response);
}
