/**
 * One lane for the batches of several micro-batchers (every model a process serves, the tenants' encoders too): one
 * batch runs at a time, whichever model it is for, and admission sees the work queued for all of them.
 *
 * Why one lane: the models share the process's CPU cores. Batches of two models running at once (onnxruntime-node
 * runs each on a thread of its own) slow each other down, so each batcher's measured batch times, and the waits it
 * predicts from them, lag behind the load the other models put on the cores, and a batcher that sees only its own
 * queue admits work that waits far past its deadline. With one batch at a time, a batch's measured time is that
 * batch's alone, and the wait of a new submission is at most the work of every queue ahead of it: its own queue's
 * batches plus what the other batchers hold (MicroBatcher adds `workOfOthers`). Each batcher keeps its own queue
 * and batching; the lane only decides whose batch starts next, in the order they asked (each batcher asks for one
 * batch at a time, so the models take turns).
 *
 * A batcher without a lane of its own gets a private one: it then runs and predicts as if alone.
 */

/** What the lane reads of a batcher that uses it. */
export interface LaneUser {
  /** Whether it runs a batch, waits for its turn, or holds queued work. */
  readonly busy: boolean;
  /** Predicted milliseconds of its work: the rest of its running batch and every batch its queue would form. */
  pendingMs(): number;
}

/** Ends a turn: the next batch in line starts (once; a second call does nothing). */
export type EndTurn = () => void;

export class BatchLane {
  // Batchers live as long as the engines that own them (the process's loaded models): they are never removed.
  private readonly users = new Set<LaneUser>();
  private readonly waiting: ((end: EndTurn) => void)[] = [];
  private turn = false;

  join(user: LaneUser): void {
    this.users.add(user);
  }

  /** Predicted milliseconds of work that the lane's other batchers hold. */
  workOfOthers(user: LaneUser): number {
    let ms = 0;
    for (const other of this.users) if (other !== user) ms += other.pendingMs();
    return ms;
  }

  /** Whether no batcher of the lane has work: a submission then waits for nothing but its own batch. */
  get idle(): boolean {
    if (this.turn) return false;
    for (const user of this.users) if (user.busy) return false;
    return true;
  }

  /** Calls `start` with the turn once no other batch runs (at once when none does); it must end the turn. */
  enter(start: (end: EndTurn) => void): void {
    if (this.turn) {
      this.waiting.push(start);
      return;
    }
    this.turn = true;
    start(this.endTurn());
  }

  private endTurn(): EndTurn {
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      const next = this.waiting.shift();
      if (next) next(this.endTurn());
      else this.turn = false;
    };
  }
}
