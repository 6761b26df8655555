/**
 * Sessions made after start-up. Creating an ONNX session is most of a model's load (onnxruntime-node builds it
 * synchronously, ~40-60 ms for sst2-bert), so a server that made every model's session before it listened kept its
 * first classification waiting for models that request does not use. A deferred model is otherwise loaded as
 * before (files sha256-checked, config and tokenizer parsed: its labels and token counts are there at once); only
 * its session is made later, by loadAll() in the background, or at once by the first run that needs it: a request
 * for such a model waits for its session, it is never told the model is missing.
 *
 * Until the session exists, the classifier builds its feeds as plain tensors over BERT's three inputs; the first run
 * converts them with the real session's factory and keeps the inputs the session takes. Afterwards the real factory
 * and input names are used directly.
 */
import type { OrtSessionLike, OrtTensorLike } from '../ort-types.js';
import type { TensorFactory } from '../bert-feeds.js';
import { ModelFolderError } from '../model-config.js';
import type { OrtSessionHandle, SessionFactory, SessionOptions } from './classifier-from-files.js';

/** What a classifier may feed before the session says which inputs it takes (bert-feeds.ts adds token_type_ids when asked). */
const INPUTS_BEFORE_LOAD = ['input_ids', 'attention_mask', 'token_type_ids'] as const;

/** A feed made before its session existed. */
class PendingTensor implements OrtTensorLike {
  constructor(readonly type: 'int64', readonly data: BigInt64Array, readonly dims: number[]) {}
}

class DeferredSession {
  private making: Promise<OrtSessionHandle> | null = null;
  private made: OrtSessionHandle | null = null;
  readonly warmUps: Array<() => Promise<unknown>> = [];

  constructor(readonly ref: string, private bytes: Uint8Array | null, private readonly options: SessionOptions | undefined, private readonly real: SessionFactory) {}

  get loaded(): boolean {
    return this.made !== null;
  }

  /** The real session, made on the first call (the ONNX bytes are dropped once it exists). */
  session(): Promise<OrtSessionHandle> {
    return (this.making ??= this.real(this.bytes!, this.options).then((handle) => {
      for (const name of ['input_ids', 'attention_mask']) {
        if (!handle.session.inputNames.includes(name)) throw new ModelFolderError(`model ${this.ref}: its ONNX file takes no ${name}: not a BERT-family model`);
      }
      this.bytes = null;
      this.made = handle;
      return handle;
    }));
  }

  handle(): OrtSessionHandle {
    const deferred = this;
    const createTensor: TensorFactory = (type, data, dims) => this.made?.createTensor(type, data, dims) ?? new PendingTensor(type, data, dims);
    const session: OrtSessionLike = {
      get inputNames() {
        return deferred.made?.session.inputNames ?? INPUTS_BEFORE_LOAD;
      },
      async run(feeds) {
        const { session: real, createTensor: make } = await deferred.session();
        const converted: Record<string, OrtTensorLike> = {};
        for (const name of real.inputNames) {
          const feed = feeds[name];
          if (feed) converted[name] = feed instanceof PendingTensor ? make(feed.type, feed.data, feed.dims) : feed;
        }
        return real.run(converted);
      },
    };
    return { session, createTensor };
  }
}

export class DeferredSessions {
  private readonly entries = new Map<string, DeferredSession>();
  private loading: Promise<void> | null = null;

  /** @param onError told of a deferred model whose session could not be made (its requests get the error). */
  constructor(private readonly onError: (ref: string, error: unknown) => void = () => {}) {}

  /** A factory whose sessions (for the model `ref`) are made later; `real` makes them. */
  factory(ref: string, real: SessionFactory): SessionFactory {
    return async (bytes, options) => {
      const entry = new DeferredSession(ref, bytes, options, real);
      this.entries.set(ref, entry);
      return entry.handle();
    };
  }

  /** Runs `warmUp` once the model's session is made (a first run pays for the session's lazy initialisation). */
  afterLoad(ref: string, warmUp: () => Promise<unknown>): void {
    const entry = this.entries.get(ref);
    if (!entry) throw new Error(`no deferred session for ${ref}`);
    entry.warmUps.push(warmUp);
  }

  /** The models whose sessions are not made yet. */
  get pending(): string[] {
    return [...this.entries.values()].filter((entry) => !entry.loaded).map((entry) => entry.ref);
  }

  /**
   * Makes every deferred session, one model at a time, each followed by its warm-up, with a turn of the event loop
   * between models so that requests are read in between. Resolves when all are done; a failure goes to onError.
   */
  loadAll(): Promise<void> {
    return (this.loading ??= (async () => {
      for (const entry of this.entries.values()) {
        await new Promise((resolve) => setTimeout(resolve, 0));
        try {
          await entry.session();
          for (const warmUp of entry.warmUps.splice(0)) await warmUp();
        } catch (error) {
          this.onError(entry.ref, error);
        }
      }
    })());
  }
}
