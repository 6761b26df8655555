/**
 * Rewrites a server-sent-events body event by event, for the router's passes over an upstream's stream (usage
 * metering, PII masking): bytes are decoded as a stream (a character split between chunks stays whole), cut at each
 * blank line, and each whole event goes through `event`. Pull-driven: nothing is read before the client asks, so
 * backpressure and cancellation reach the upstream.
 */
export interface SseEventRewriter {
  /** One whole event, its closing blank line included: what the client gets instead ('' drops it). */
  event(event: string): string;
  /** The source ended; `rest` is what followed its last blank line ('' mostly): what is sent last. */
  end(rest: string): string;
  /** The source failed or the client cancelled (after `end`, never). */
  stopped?(): void;
}

export function rewriteSseEvents(source: ReadableStream<Uint8Array>, rewriter: SseEventRewriter): ReadableStream<Uint8Array> {
  const reader = source.getReader();
  const decoder = new TextDecoder();
  const encoder = new TextEncoder();
  let pending = '';
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      for (;;) {
        let result: ReadableStreamReadResult<Uint8Array>;
        try {
          result = await reader.read();
        } catch (error) {
          rewriter.stopped?.();
          controller.error(error);
          return;
        }
        if (result.done) {
          const last = rewriter.end(pending + decoder.decode());
          if (last) controller.enqueue(encoder.encode(last));
          controller.close();
          return;
        }
        pending += decoder.decode(result.value, { stream: true });
        let out = '';
        let end: number;
        while ((end = pending.indexOf('\n\n')) >= 0) {
          out += rewriter.event(pending.slice(0, end + 2));
          pending = pending.slice(end + 2);
        }
        // An empty pass (a partial event, or only dropped ones) reads on rather than enqueueing nothing.
        if (out) {
          controller.enqueue(encoder.encode(out));
          return;
        }
      }
    },
    cancel(reason) {
      rewriter.stopped?.();
      return reader.cancel(reason);
    },
  });
}
