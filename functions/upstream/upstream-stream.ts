/**
 * A committed upstream stream passed on chunk by chunk, unbuffered. Silence longer than the idle timeout (only
 * while the router waits on the upstream, not while the client is slow to read), the total timeout and a broken
 * connection each end the stream with an SSE error event instead of leaving the client waiting.
 */
import { errorEvent } from './upstream-errors.js';

export interface StreamBounds {
  idleTimeoutMs: number;
  totalTimeoutMs: number;
  /** Aborts the upstream request; a read in progress then fails. */
  abort: AbortController;
  pastTotal: () => boolean;
  /** Runs once when the stream ends, however it ends. */
  end: () => void;
  /** The upstream stalled or broke off (not the total timeout, not the client). */
  onFailure: () => void;
}

export function passThrough(reader: ReadableStreamDefaultReader<Uint8Array>, first: ReadableStreamReadResult<Uint8Array>, bounds: StreamBounds): ReadableStream<Uint8Array> {
  let pending: ReadableStreamReadResult<Uint8Array> | null = first;
  let waitingSince = 0; // 0: not waiting on the upstream
  let idle = false;
  let finished = false;
  // One timer per idle period rather than one per chunk: it re-arms itself for what is left of the period.
  const watch = () => {
    if (finished) return;
    const quiet = waitingSince === 0 ? 0 : Date.now() - waitingSince;
    if (quiet >= bounds.idleTimeoutMs) {
      idle = true;
      bounds.abort.abort();
    } else timer = setTimeout(watch, bounds.idleTimeoutMs - quiet);
  };
  let timer = setTimeout(watch, bounds.idleTimeoutMs);
  const finish = () => {
    finished = true;
    clearTimeout(timer);
    bounds.end();
  };
  return new ReadableStream<Uint8Array>({
    pull: async (controller) => {
      try {
        let result = pending;
        pending = null;
        if (!result) {
          waitingSince = Date.now();
          result = await reader.read();
          waitingSince = 0;
        }
        if (result.done) {
          finish();
          controller.close();
          return;
        }
        controller.enqueue(result.value);
      } catch {
        if (finished) return; // cancelled by the client
        finish();
        if (idle) {
          bounds.onFailure();
          controller.enqueue(errorEvent(`the upstream sent nothing for ${bounds.idleTimeoutMs} ms`, 'upstream_idle_timeout'));
        } else if (bounds.pastTotal()) {
          controller.enqueue(errorEvent(`the upstream stream passed its time limit of ${bounds.totalTimeoutMs} ms`, 'upstream_timeout'));
        } else {
          bounds.onFailure();
          controller.enqueue(errorEvent('the upstream broke off the stream', 'upstream_stream_error'));
        }
        controller.close();
      }
    },
    cancel: () => {
      finish();
      bounds.abort.abort();
    },
  });
}
