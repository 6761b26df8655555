/** The micro-batcher's options with its onBatch observer also telling the metrics each batch's size and run time. */
import type { MicroBatcherOptions } from '../engine/classification/micro-batcher.js';
import type { RouterMetrics } from './router-metrics.js';

export function withBatchMetrics<O extends Partial<MicroBatcherOptions>>(options: O, metrics: RouterMetrics | undefined): O {
  if (!metrics) return options;
  const before = options.onBatch;
  return {
    ...options,
    onBatch: (size: number, ms: number) => {
      before?.(size, ms);
      metrics.batch(size, ms / 1000);
    },
  };
}
