/**
 * Dynamic micro-batching: items submitted while a batch runs (or within `maxWaitMs` of the first one) are
 * coalesced into the next batch, up to `maxBatchSize`. The queue is bounded twice, so callers can answer 503 with
 * Retry-After: past `maxQueue` pending items, and past `maxQueueMs` of waiting. A submission whose last item would
 * start later than `maxQueueMs` from now (estimated from measured batch times) is refused at once; one whose
 * deadline passes while it waits anyway (the estimate was low) is shed before it runs. Both are QueueFullErrors.
 *
 * The estimate weighs items by `weight` (default 1 each): batch times are fitted to, and predicted from, a batch's
 * summed weight. Where items differ in cost (texts of 8 or 128 tokens), counting items would price a batch of short
 * texts like one of the long texts seen before it, and refuse a request that an idle server runs at once.
 *
 * A batch never starts inside submit(): it waits for `defer`, one turn of the event loop (Node passes setImmediate,
 * which runs right after the I/O phase; the default, setTimeout(0), works in every runtime), and so does every
 * next batch. A WASM session.run blocks the event loop, and its promise settles before the loop reads another
 * socket: a batch started inside submit() would run each request alone, before the next arrival was even parsed,
 * so the queue would never hold the backlog (it would sit unread in the sockets) and never look full. With the
 * turn, requests read in the same I/O phase share a batch, and what arrived during a run is queued and counted
 * against the bounds before the next run. A lone request pays one turn.
 *
 * A submission may carry an AbortSignal (its caller gave up, e.g. a client that disconnected): when it fires, the
 * submission's items still queued leave the queue (they never run, and stop counting against the bounds and the wait
 * estimate) and its promise rejects with the signal's reason at once. Its items in a running batch run on; their
 * results are dropped.
 *
 * Batchers of one process may share a BatchLane (batch-lane.ts): their batches then run one at a time, and a
 * submission's predicted wait adds the work the lane's other batchers hold, so that models sharing the CPU cores
 * also share the deadline. Without one, a batcher has a lane of its own.
 *
 * What it does is seen through observers in the options (onBatchStart, onBatch), for metrics and tests: it keeps
 * no record of its own.
 */
import { QueueFullError } from '../tasks/queue-full-error.js';
import { BatchCostModel } from './batch-cost.js';
import { BatchLane, type EndTurn, type LaneUser } from './batch-lane.js';

export interface MicroBatcherOptions<I = unknown> {
  maxBatchSize: number;
  maxWaitMs: number;
  maxQueue: number;
  /** Longest a submission may wait for its last item's batch to start (default 3,000 ms; Infinity: no bound). */
  maxQueueMs?: number;
  defer?: (run: () => void) => void;
  /** Shared with the process's other batchers: one batch at a time, and one deadline over all their work. */
  lane?: BatchLane;
  /** What an item costs to run, in any unit (a positive number, read once per item at submit); default 1. */
  weight?: (item: I) => number;
  /** A batch of `size` items starts (observers must not throw, here and in onBatch). */
  onBatchStart?: (size: number) => void;
  /** A batch of `size` items has run, in `ms`, whether it succeeded or failed. */
  onBatch?: (size: number, ms: number) => void;
}

export const DEFAULT_MAX_QUEUE_MS = 3_000;
/** How long a batch may wait for arrivals still being read: a small share of one batch's run time. */
const READ_BACKLOG_SHARE = 0.05;
const READ_BACKLOG_MIN_MS = 2;

/** The queue holds too much work to start this request within the deadline (or it waited past it). */
export class QueueDeadlineError extends QueueFullError {
  override name = 'QueueDeadlineError';
  constructor(retryAfterSeconds: number, maxQueueMs: number) {
    super(retryAfterSeconds, `the model is overloaded: the request would wait more than ${maxQueueMs} ms in its queue`);
  }
}

/** One submit() call: its items' results, and the deadline by which each of its items must have started. */
interface Ticket<O> {
  results: O[];
  left: number;
  /** Items still in the queue (not yet taken into a batch). */
  queued: number;
  deadline: number;
  done: boolean;
  resolve: (values: O[]) => void;
  reject: (error: unknown) => void;
  /** Removes the submission's abort listener (a long-lived signal would otherwise keep every ticket alive). */
  release: () => void;
}

interface Pending<I, O> {
  item: I;
  weight: number;
  index: number;
  ticket: Ticket<O>;
}

export class MicroBatcher<I, O> implements LaneUser {
  private queue: Pending<I, O>[] = [];
  /** Queued items of tickets still alive (the queue may hold items of failed tickets until they are skipped). */
  private live = 0;
  private running = false;
  /** Waiting for the lane's turn (another batcher's batch runs). */
  private entering = false;
  private runningSize = 0;
  private runningWeight = 0;
  private runningSince = 0;
  private deferred = false;
  /** submit() calls so far, refused ones included: whether a turn of the event loop brought new requests. */
  private submissions = 0;
  private warm = false;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private readonly cost = new BatchCostModel();
  private readonly maxQueueMs: number;
  private readonly lane: BatchLane;

  constructor(
    private readonly runBatch: (items: I[]) => Promise<O[]>,
    private readonly options: MicroBatcherOptions<NoInfer<I>>,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.maxQueueMs = options.maxQueueMs ?? DEFAULT_MAX_QUEUE_MS;
    this.lane = options.lane ?? new BatchLane();
    this.lane.join(this);
  }

  get busy(): boolean {
    return this.running || this.entering || this.live > 0;
  }

  pendingMs(): number {
    return this.waitMs([], true);
  }

  /** `signal`: the caller gave up; see the class comment. An already-aborted signal is refused before any check. */
  submit(items: I[], signal?: AbortSignal): Promise<O[]> {
    this.submissions++;
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (items.length === 0) return Promise.resolve([]);
    const weigh = this.options.weight;
    const weights = items.map((item) => (weigh ? weigh(item) : 1));
    const wait = this.waitMs(weights) + this.lane.workOfOthers(this);
    if (this.live + items.length > this.options.maxQueue) throw new QueueFullError(this.retryAfter(wait));
    if (wait > this.maxQueueMs) throw new QueueDeadlineError(this.retryAfter(wait - this.maxQueueMs), this.maxQueueMs);
    // A request that finds the lane idle waits only for one turn of the event loop: shedding it would free
    // nothing (and a loop blocked by other work, e.g. a start-up, is no backlog of these queues).
    const idle = this.lane.idle;
    return new Promise<O[]>((resolve, reject) => {
      const ticket: Ticket<O> = {
        results: new Array<O>(items.length), left: items.length, queued: items.length,
        deadline: idle ? Infinity : this.now() + this.maxQueueMs, done: false, resolve, reject, release: () => {},
      };
      items.forEach((item, index) => this.queue.push({ item, weight: weights[index]!, index, ticket }));
      this.live += items.length;
      if (signal) {
        const onAbort = () => this.abort(ticket, signal.reason);
        signal.addEventListener('abort', onAbort, { once: true });
        ticket.release = () => signal.removeEventListener('abort', onAbort);
      }
      this.schedule();
    });
  }

  /**
   * Estimated time until the batch holding the last of `extra` (a submission's item weights, queued after the
   * live items) starts: the running batch's rest, then each batch that take() would form ahead of it; with
   * `whole`, until that last batch has run too.
   */
  private waitMs(extra: readonly number[] = [], whole = false): number {
    const size = this.options.maxBatchSize;
    let ahead = 0;
    let batchWeight = 0;
    let batchItems = 0;
    // A batch counts once an item follows it: the last one, holding the last item, is not waited for.
    const add = (weight: number) => {
      if (batchItems === size) {
        ahead += this.cost.predict(batchWeight);
        batchWeight = 0;
        batchItems = 0;
      }
      batchWeight += weight;
      batchItems++;
    };
    for (const pending of this.queue) if (!pending.ticket.done) add(pending.weight);
    for (const weight of extra) add(weight);
    if (whole) ahead += this.cost.predict(batchWeight);
    const current = this.running ? Math.max(0, this.cost.predict(this.runningWeight) - (this.now() - this.runningSince)) : 0;
    return current + ahead;
  }

  private retryAfter(ms: number): number {
    return Math.max(1, Math.ceil(ms / 1000));
  }

  private fail(ticket: Ticket<O>, error: unknown): void {
    if (ticket.done) return;
    ticket.done = true;
    ticket.release();
    this.live -= ticket.queued;
    ticket.queued = 0;
    ticket.reject(error);
  }

  private succeed(ticket: Ticket<O>): void {
    ticket.done = true;
    ticket.release();
    ticket.resolve(ticket.results);
  }

  /** The caller gave up: its queued items go now (not when take() reaches them), so they stop holding memory too. */
  private abort(ticket: Ticket<O>, reason: unknown): void {
    if (ticket.done) return;
    if (ticket.queued > 0) this.queue = this.queue.filter((pending) => pending.ticket !== ticket);
    this.fail(ticket, reason);
  }

  private schedule(): void {
    if (this.running || this.entering) return;
    if (this.options.maxWaitMs > 0 && this.live < this.options.maxBatchSize) {
      this.timer ??= setTimeout(() => this.flush(), this.options.maxWaitMs);
    } else {
      this.yieldThenFlush();
    }
  }

  /**
   * Flushes after one turn of the event loop. After a batch (`afterRun`) it takes turns until two in a row bring
   * no submission (for at most 5 % of a batch's time): connections that arrived while the batch blocked the loop
   * wait in the listening socket, and Node accepts one of them per turn and reads it in the next.
   */
  private yieldThenFlush(afterRun = false): void {
    if (this.deferred) return;
    this.deferred = true;
    const defer = this.options.defer ?? ((run) => setTimeout(run, 0));
    // A full batch of items like the last batch's.
    const fullBatch = this.options.maxBatchSize * (this.runningSize > 0 ? this.runningWeight / this.runningSize : 1);
    const until = this.now() + Math.max(READ_BACKLOG_MIN_MS, READ_BACKLOG_SHARE * this.cost.predict(fullBatch));
    const turn = (seen: number, quiet: number) => defer(() => {
      const quietNow = this.submissions === seen ? quiet + 1 : 0;
      if (afterRun && quietNow < 2 && this.now() < until) return turn(this.submissions, quietNow);
      this.deferred = false;
      this.flush();
    });
    turn(this.submissions, 0);
  }

  /** Takes up to maxBatchSize items of live tickets, shedding tickets whose deadline has passed. */
  private take(): Pending<I, O>[] {
    const now = this.now();
    const batch: Pending<I, O>[] = [];
    let i = 0;
    for (; i < this.queue.length && batch.length < this.options.maxBatchSize; i++) {
      const pending = this.queue[i]!;
      if (pending.ticket.done) continue;
      if (now > pending.ticket.deadline) {
        this.fail(pending.ticket, new QueueDeadlineError(this.retryAfter(this.waitMs()), this.maxQueueMs));
        continue;
      }
      batch.push(pending);
      pending.ticket.queued--;
      this.live--;
    }
    this.queue = this.queue.slice(i);
    return batch;
  }

  private flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.running || this.entering || this.live === 0) return;
    this.entering = true;
    // The batch is taken when the turn comes, so that it holds what arrived meanwhile, and sheds by the deadline then.
    this.lane.enter((end) => {
      this.entering = false;
      this.start(end);
    });
  }

  private start(end: EndTurn): void {
    const batch = this.take();
    if (batch.length === 0) return end();
    this.running = true;
    this.runningSize = batch.length;
    this.runningWeight = batch.reduce((sum, p) => sum + p.weight, 0);
    this.options.onBatchStart?.(batch.length);
    const started = this.now();
    this.runningSince = started;
    // The batch's time is recorded and it stops counting as running before its callers get their results: one that
    // submits again at once must not find the batch it just had still running (pending work, a deadline).
    const finished = () => {
      const ms = this.now() - started;
      // The first run pays for the session's lazy initialisation: not a batch time to plan with.
      if (this.warm) this.cost.record(this.runningWeight, ms);
      this.warm = true;
      this.running = false;
      this.options.onBatch?.(batch.length, ms);
    };
    // A runBatch that throws instead of rejecting must still end the lane's turn.
    new Promise<O[]>((resolve) => resolve(this.runBatch(batch.map((p) => p.item))))
      .then((outputs) => {
        finished();
        if (outputs.length !== batch.length) throw new Error(`batch of ${batch.length} gave ${outputs.length} results`);
        batch.forEach((p, i) => {
          const ticket = p.ticket;
          if (ticket.done) return;
          ticket.results[p.index] = outputs[i]!;
          if (--ticket.left === 0) this.succeed(ticket);
        });
      }, (error: unknown) => {
        finished();
        throw error;
      })
      .catch((error: unknown) => batch.forEach((p) => this.fail(p.ticket, error)))
      .finally(() => {
        // The next batch of the lane may start inside end(): after this one's callers have their results.
        end();
        // Whatever arrived while this batch ran goes next, after one turn so that requests whose bytes arrived
        // during the run are read (and counted against the bounds) first.
        if (this.live > 0) this.yieldThenFlush(true);
      });
  }
}
