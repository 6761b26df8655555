/**
 * One training run per alarm of the fine-tuning Durable Object. Cloudflare limits CPU per invocation (wrangler.toml's
 * limits.cpu_ms), so each run's reading and training must fall inside an invocation of its own: a run reaches
 * TurnGate.wait() once its files are read and waits there until the object's alarm grants it the turn.
 */
import type { EmbedOptions, TextEmbedder } from '../engine/tasks/text-embedder.js';
import type { Trainer, TrainInput, TrainOptions, TrainOutput } from '../tuning/trainer/trainer.js';

interface Waiter {
  start(): void;
}

export class TurnGate {
  private readonly waiting: Waiter[] = [];
  private arrivals: (() => void)[] = [];

  get waiters(): number {
    return this.waiting.length;
  }

  /** Resolves at the caller's turn; rejects with the signal's reason when it is aborted first (a cancelled job). */
  wait(signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        const index = this.waiting.indexOf(waiter);
        if (index >= 0) this.waiting.splice(index, 1);
        reject(signal!.reason);
      };
      const waiter: Waiter = {
        start: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiting.push(waiter);
      for (const arrived of this.arrivals.splice(0)) arrived();
    });
  }

  /** Starts the longest-waiting run; false when none waits. */
  grant(): boolean {
    const waiter = this.waiting.shift();
    waiter?.start();
    return waiter !== undefined;
  }

  /** Resolves once a run waits for its turn (at once when one does). */
  arrival(): Promise<void> {
    if (this.waiting.length > 0) return Promise.resolve();
    return new Promise((resolve) => this.arrivals.push(resolve));
  }
}

/** A trainer whose runs each wait for their turn at the gate before they start. */
export class TurnTakingTrainer implements Trainer {
  constructor(private readonly inner: Trainer, private readonly gate: TurnGate) {}

  async train(input: TrainInput, options: TrainOptions = {}): Promise<TrainOutput> {
    await this.gate.wait(options.signal);
    return this.inner.train(input, options);
  }
}

/**
 * An embedder that lets the event loop run before each call: onnxruntime-web's runs settle as microtasks, so without
 * a macrotask between two chunks a training run would hold the object until its last text, and a cancel (or any
 * request to this isolate) would wait for it.
 */
export class YieldingEmbedder implements TextEmbedder {
  constructor(private readonly inner: TextEmbedder) {}

  get dimensions(): number {
    return this.inner.dimensions;
  }

  countTokens(texts: string[]): number[] {
    return this.inner.countTokens(texts);
  }

  async embed(texts: string[], options?: EmbedOptions) {
    await new Promise((resolve) => setTimeout(resolve, 0));
    options?.signal?.throwIfAborted();
    return this.inner.embed(texts, options);
  }
}
