/**
 * A TextClassifier seen from outside: its queue wait (the call's time less the run time of the batch it ran in)
 * goes to the metrics, and a "classify" span gets "queue", "tokenize" and "inference" children laid end to end.
 * The batch's tokenize and inference times are the engine's own (BatchTiming), so nothing is added to the batcher.
 */
import { context, trace, type Span } from '@opentelemetry/api';
import type { ClassifiedText, ClassifyOptions, TextClassifier } from '../engine/tasks/text-classifier.js';
import type { RouterMetrics } from './router-metrics.js';
import { epochMs, tracer } from './tracer.js';

function childSpans(parent: Span, started: number, queueMs: number, { tokenizeMs, inferenceMs }: ClassifiedText): void {
  const ctx = trace.setSpan(context.active(), parent);
  let at = started;
  for (const [name, ms] of [['queue', queueMs], ['tokenize', tokenizeMs], ['inference', inferenceMs]] as const) {
    tracer().startSpan(name, { startTime: epochMs(at) }, ctx).end(epochMs(at + ms));
    at += ms;
  }
}

export class ObservedClassifier implements TextClassifier {
  readonly readsWhole?: (text: string) => boolean;
  readonly countTokens?: (texts: string[]) => number[];

  constructor(private readonly inner: TextClassifier, private readonly model: string, private readonly metrics: RouterMetrics | undefined) {
    if (inner.readsWhole) this.readsWhole = (text) => inner.readsWhole!(text);
    if (inner.countTokens) this.countTokens = (texts) => inner.countTokens!(texts);
  }

  get labels(): string[] {
    return this.inner.labels;
  }

  async classify(texts: string[], options?: ClassifyOptions): Promise<ClassifiedText[]> {
    const span = tracer().startSpan('classify', { attributes: { 'edge_maas.model': this.model, 'edge_maas.texts': texts.length } });
    const started = performance.now();
    try {
      const results = await this.inner.classify(texts, options);
      const first = results[0];
      if (first) {
        const queueMs = Math.max(0, performance.now() - started - first.tokenizeMs - first.inferenceMs);
        this.metrics?.queueWait(this.model, queueMs / 1000);
        if (span.isRecording()) childSpans(span, started, queueMs, first);
      }
      return results;
    } finally {
      span.end();
    }
  }
}

/** Every engine of the map behind an ObservedClassifier, keyed as before (id@version). */
export function observeClassifiers<C extends TextClassifier>(engines: Map<string, C>, metrics: RouterMetrics | undefined): Map<string, TextClassifier> {
  return new Map([...engines].map(([ref, engine]) => [ref, new ObservedClassifier(engine, ref, metrics)]));
}
