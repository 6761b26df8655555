/**
 * A job's events as server-sent events: first the past ones after the client's Last-Event-ID (oldest first), then
 * live ones, each with `id: <seq>` so that a reconnecting EventSource resumes where it was; then `event: done`
 * carrying the finished job, and the end of the stream. This process's events arrive pushed (subscribe); events
 * written by another process (another server on the database, another isolate) are read from the store every
 * pollMs, which also notices a job that finished elsewhere. A comment line every heartbeatMs keeps proxies from
 * closing an idle stream; a client that goes away cancels the stream, which unsubscribes and stops the timers.
 * When the server shuts down (the `shutdown` signal), every open stream sends `event: shutdown` and ends, so that
 * the drain is not held until its job finishes; the client reconnects elsewhere with Last-Event-ID.
 */
import { ApiError, errorBody } from '../../http/errors.js';
import { FINISHED, type JobEvent, type JobRecord, type JobStatus } from '../tuning-types.js';
import { eventObject, jobObject } from './openai-objects.js';

/** One job's events and record, already scoped to the caller's tenant. */
export interface JobEventSource {
  eventsAfter(seq: number): Promise<JobEvent[]>;
  job(): Promise<JobRecord>;
  subscribe(listener: (event: JobEvent, status: JobStatus) => void): () => void;
}

export interface EventStreamOptions {
  heartbeatMs: number;
  pollMs: number;
  /** Unix seconds (default: the clock); compared with the job's finished_at. */
  now?: () => number;
  /** Aborted when the server shuts down: open streams end at once (a stream started after it ends at its start). */
  shutdown?: AbortSignal;
}

export const DEFAULT_EVENT_STREAM: EventStreamOptions = { heartbeatMs: 15_000, pollMs: 2_000 };

/**
 * A job's status is recorded before its last event is written ("The job has successfully completed"): a job that
 * finished this recently (finished_at, in whole seconds) may still get that event, so the stream waits for it.
 */
const LAST_EVENT_GRACE_SECONDS = 2;

const encoder = new TextEncoder();
const frame = (lines: string[]) => encoder.encode(`${lines.join('\n')}\n\n`);

/**
 * Last-Event-ID as a seq: absent or empty, from the start; a non-negative integer (one beyond the last event waits
 * for newer ones); anything else is null, which the route refuses rather than silently replaying everything.
 */
export function lastEventSeq(header: string | undefined): number | null {
  const value = header?.trim() ?? '';
  if (value === '') return 0;
  return /^\d{1,15}$/.test(value) ? Number(value) : null;
}

export function jobEventStream(fromSeq: number, source: JobEventSource, options: EventStreamOptions): ReadableStream<Uint8Array> {
  const now = options.now ?? (() => Math.floor(Date.now() / 1000));
  let sentSeq = fromSeq;
  let closed = false;
  let unsubscribe = () => {};
  const timers: ReturnType<typeof setInterval>[] = [];
  let turn: Promise<void> = Promise.resolve();

  let unlisten = () => {};

  const stop = () => {
    if (closed) return;
    closed = true;
    unsubscribe();
    unlisten();
    for (const timer of timers) clearInterval(timer);
  };

  return new ReadableStream<Uint8Array>({
    start(controller) {
      const send = (event: JobEvent) => {
        if (event.seq <= sentSeq) return;
        sentSeq = event.seq;
        controller.enqueue(frame([`id: ${event.seq}`, `data: ${JSON.stringify(eventObject(event))}`]));
      };
      /** Sends what the store holds after what was sent; ends the stream once the job has finished and its last event is out. */
      const catchUp = async (lastEventWritten: boolean) => {
        for (const event of await source.eventsAfter(sentSeq)) send(event);
        const job = await source.job();
        if (!FINISHED.includes(job.status)) return;
        // Until then, the push of that event or a later poll ends the stream.
        if (!lastEventWritten && now() - (job.finishedAt ?? 0) < LAST_EVENT_GRACE_SECONDS) return;
        for (const event of await source.eventsAfter(sentSeq)) send(event);
        controller.enqueue(frame(['event: done', `data: ${JSON.stringify(jobObject(job))}`]));
        stop();
        controller.close();
      };
      // One step at a time: a push, a poll and the first read never interleave their reads and sends.
      const schedule = (step: () => void | Promise<void>) => {
        turn = turn
          .then(async () => {
            if (!closed) await step();
          })
          .catch((error: unknown) => {
            if (closed) return;
            // The status line went out long ago: the failure is the stream's last event, in the error shape.
            const known = error instanceof ApiError ? error : null;
            if (!known) console.error(`event stream failed: ${error instanceof Error ? error.message : String(error)}`);
            controller.enqueue(frame(['event: error', `data: ${errorBody(known?.message ?? 'reading the job\'s events failed', known?.type ?? 'server_error', known?.code ?? 'internal_error')}`]));
            stop();
            controller.close();
          });
      };
      // Subscribed before the first read: nothing written in between is missed (send() skips what was sent).
      unsubscribe = source.subscribe((event, status) => schedule(() => {
        const finished = FINISHED.includes(status);
        // The next event of a running job goes out as pushed; a gap (events of another process) or the job's last
        // event (written after its finished status) is read from the store.
        if (event.seq === sentSeq + 1 && !finished) send(event);
        else return catchUp(finished);
      }));
      timers.push(setInterval(() => schedule(() => catchUp(false)), options.pollMs));
      timers.push(setInterval(() => {
        if (!closed) controller.enqueue(encoder.encode(': keep-alive\n\n'));
      }, options.heartbeatMs));
      // Not through schedule(): a read in progress must not hold the shutdown; what it sends after the close is dropped.
      const endForShutdown = () => {
        if (closed) return;
        controller.enqueue(frame(['event: shutdown', `data: ${JSON.stringify({ message: 'the server is shutting down; reconnect with Last-Event-ID to resume' })}`]));
        stop();
        controller.close();
      };
      if (options.shutdown?.aborted) return endForShutdown();
      options.shutdown?.addEventListener('abort', endForShutdown);
      unlisten = () => options.shutdown?.removeEventListener('abort', endForShutdown);
      schedule(() => catchUp(false));
    },
    cancel() {
      stop();
    },
  });
}
