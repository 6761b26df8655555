/**
 * Continuous batching, as vLLM and TGI do it: every decode step runs all active sequences in one session.run;
 * a new request is prefilled and joins between steps, a finished or cancelled one leaves at once. Requests wait
 * in a bounded queue when the batch is full; beyond it they are refused with QueueFullError.
 */
import { QueueFullError } from '../tasks/queue-full-error.js';
import type { BpeTokenizer } from '../tokenizer/bpe-tokenizer.js';
import type { KvCache, KvDecoder } from './kv-decoder.js';
import { sampleToken, SeededRandom, type SamplingParams } from './sampler.js';
import { StopMatcher } from './stop-matcher.js';

export type FinishReason = 'stop' | 'length' | 'cancelled';

export interface GenerationRequest {
  promptIds: number[];
  maxTokens: number;
  sampling: SamplingParams;
  seed: number;
  stop: string[];
  signal?: AbortSignal;
  /** Text as it becomes final (stop strings never leak into it), with the tokens generated so far. */
  onText?: (text: string, completionTokens: number) => void;
}

export interface GenerationResult {
  text: string;
  promptTokens: number;
  completionTokens: number;
  finishReason: FinishReason;
}

export interface GenerationEngineOptions {
  /** Sequences decoded together; 1 turns continuous batching off. */
  maxBatch: number;
  maxQueue: number;
  eosIds: number[];
  /** Lets the event loop run between steps (Node: setImmediate). */
  defer?: (run: () => void) => void;
  /** The model's Jinja chat template (tokenizer_config.json), when it has one. */
  chatTemplate?: string;
  /** Told after each decode step: how many sequences it ran and how long the model took (for metrics). */
  onStep?: (batchSize: number, ms: number) => void;
}

interface Sequence {
  request: GenerationRequest;
  cache: KvCache;
  next: number;
  random: SeededRandom;
  decoder: TextDecoder;
  stops: StopMatcher;
  text: string;
  generated: number;
  done: (result: GenerationResult) => void;
  fail: (error: unknown) => void;
}

export class GenerationEngine {
  private readonly waiting: { request: GenerationRequest; done: Sequence['done']; fail: Sequence['fail'] }[] = [];
  private active: Sequence[] = [];
  private looping = false;

  constructor(
    readonly decoder: KvDecoder,
    readonly tokenizer: BpeTokenizer,
    private readonly options: GenerationEngineOptions,
  ) {}

  get chatTemplate(): string | null {
    return this.options.chatTemplate ?? null;
  }

  get load(): { active: number; waiting: number } {
    return { active: this.active.length, waiting: this.waiting.length };
  }

  generate(request: GenerationRequest): Promise<GenerationResult> {
    if (this.waiting.length >= this.options.maxQueue) throw new QueueFullError(1);
    return new Promise((done, fail) => {
      this.waiting.push({ request, done, fail });
      if (!this.looping) void this.loop();
    });
  }

  private async loop(): Promise<void> {
    this.looping = true;
    try {
      while (this.active.length > 0 || this.waiting.length > 0) {
        await this.admit();
        this.dropCancelled();
        if (this.active.length > 0) await this.step();
        await new Promise<void>((resolve) => (this.options.defer ?? ((run) => setTimeout(run, 0)))(resolve));
      }
    } finally {
      this.looping = false;
    }
  }

  private async admit(): Promise<void> {
    while (this.active.length < this.options.maxBatch && this.waiting.length > 0) {
      const { request, done, fail } = this.waiting.shift()!;
      if (request.signal?.aborted) {
        done({ text: '', promptTokens: request.promptIds.length, completionTokens: 0, finishReason: 'cancelled' });
        continue;
      }
      try {
        const { logits, cache } = await this.decoder.prefill(request.promptIds);
        const random = new SeededRandom(request.seed);
        const sequence: Sequence = {
          request, cache, random, done, fail, next: sampleToken(logits, request.sampling, random),
          decoder: new TextDecoder(), stops: new StopMatcher(request.stop), text: '', generated: 0,
        };
        if (!this.accept(sequence)) this.active.push(sequence);
      } catch (error) {
        fail(error);
      }
    }
  }

  private async step(): Promise<void> {
    const batch = this.active;
    try {
      const started = performance.now();
      const { logits, caches } = await this.decoder.step(batch.map((s) => ({ token: s.next, cache: s.cache })));
      this.options.onStep?.(batch.length, performance.now() - started);
      this.active = batch.filter((s, i) => {
        s.cache = caches[i]!;
        s.next = sampleToken(logits[i]!, s.request.sampling, s.random);
        return !this.accept(s);
      });
    } catch (error) {
      this.active = [];
      for (const s of batch) s.fail(error);
    }
  }

  /** Takes the sequence's sampled token; true when the sequence has finished (and was answered). */
  private accept(s: Sequence): boolean {
    const { request } = s;
    s.generated++; // an end-of-sequence token counts too, as vLLM counts it
    if (this.options.eosIds.includes(s.next)) return this.finish(s, 'stop');
    const { release, stopped } = s.stops.push(s.decoder.decode(this.tokenizer.tokenBytes(s.next), { stream: true }));
    this.emit(s, release);
    if (stopped) return this.finish(s, 'stop', false);
    if (s.generated >= request.maxTokens || s.cache.length + 1 >= this.decoder.shape.maxPositions) return this.finish(s, 'length');
    return false;
  }

  private dropCancelled(): void {
    this.active = this.active.filter((s) => !(s.request.signal?.aborted && this.finish(s, 'cancelled')));
  }

  private emit(s: Sequence, text: string): void {
    if (!text) return;
    s.text += text;
    s.request.onText?.(text, s.generated);
  }

  private finish(s: Sequence, reason: FinishReason, flush = true): true {
    if (flush) this.emit(s, s.stops.flush() + s.decoder.decode());
    s.done({ text: s.text, promptTokens: s.request.promptIds.length, completionTokens: s.generated, finishReason: reason });
    return true;
  }
}
