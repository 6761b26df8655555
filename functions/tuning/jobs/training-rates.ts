/**
 * How fast this process trains, for a job's estimated_finish: tokens per second while the encoder reads the texts
 * (nearly all of a job's time) and optimiser steps per second after. Until a job has finished here, conservative
 * defaults apply (TRAINING_RATE_DEFAULTS); each finished job's measured rates replace them.
 */
export interface Rates {
  featureTokensPerSecond: number;
  stepsPerSecond: number;
}

/**
 * Below what the 2-core development machine measured with other work on both cores (load average 12):
 * electra-imdb-small int8 on onnxruntime-web, one thread, read 855 tokens/s (60 SST-2 rows), 1,614 (200) and 1,852
 * (1,000); the head trained at 55 to 210 steps/s of batch 16, each epoch's hold-out measured. So a first job tends
 * to finish before its estimate rather than after.
 */
export const TRAINING_RATE_DEFAULTS: Rates = { featureTokensPerSecond: 500, stepsPerSecond: 50 };

export interface Work {
  /** Tokens the encoder reads: training and hold-out or validation texts, every window. */
  featureTokens: number;
  steps: number;
}

export class TrainingRates {
  private current: Rates;

  constructor(defaults: Rates = TRAINING_RATE_DEFAULTS) {
    this.current = { ...defaults };
  }

  get rates(): Rates {
    return { ...this.current };
  }

  seconds(work: Work): number {
    return work.featureTokens / this.current.featureTokensPerSecond + work.steps / this.current.stepsPerSecond;
  }

  /** A finished job's measurements; a phase too short to time keeps the rate it had. */
  record(measured: { featureTokens: number; featureMs: number; steps: number; trainingMs: number }): void {
    if (measured.featureMs >= 50 && measured.featureTokens > 0) this.current.featureTokensPerSecond = measured.featureTokens / (measured.featureMs / 1000);
    if (measured.trainingMs >= 50 && measured.steps > 0) this.current.stepsPerSecond = measured.steps / (measured.trainingMs / 1000);
  }
}

/** Optimiser steps of a run: batches per epoch (the last one partial) times epochs. */
export const stepsOf = (trainRows: number, batchSize: number, epochs: number): number => Math.ceil(trainRows / batchSize) * epochs;
