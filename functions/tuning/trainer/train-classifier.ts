/**
 * The Trainer over any TextEmbedder: read every text once with the base encoder (the slow part), then train a
 * softmax-regression head on the pooled features, measure it on the hold-out and return it with its result.
 */
import type { TextEmbedder } from '../../engine/tasks/text-embedder.js';
import { BASE_LEARNING_RATE, WEIGHT_DECAY } from '../hyperparameters.js';
import type { TrainingResult } from '../tuning-types.js';
import { headLogits, type ClassifierHead } from './classifier-head.js';
import { fitStandardisation, foldStandardisation, packFeatures, standardise } from './feature-matrix.js';
import { holdoutSplit } from './holdout-split.js';
import { accuracy, majorityBaseline, perLabelMetrics } from './metrics.js';
import { trainSoftmaxRegression } from './softmax-regression.js';
import type { LabelledText, Trainer, TrainInput, TrainOptions, TrainOutput } from './trainer.js';

export interface EmbeddingTrainerOptions {
  embedderFor: (base: string) => Promise<TextEmbedder>;
  /** Texts per embed call: between two, the signal is checked and progress reported. */
  chunkSize?: number;
  /** Milliseconds, for featureMs and trainingMs. */
  clock?: () => number;
}

export const DEFAULT_CHUNK_SIZE = 64;

export class EmbeddingTrainer implements Trainer {
  private readonly chunkSize: number;
  private readonly clock: () => number;

  constructor(private readonly options: EmbeddingTrainerOptions) {
    this.chunkSize = options.chunkSize ?? DEFAULT_CHUNK_SIZE;
    this.clock = options.clock ?? (() => Date.now());
    if (!(this.chunkSize >= 1)) throw new RangeError(`chunkSize must be at least 1, got ${this.chunkSize}`);
  }

  async train(input: TrainInput, options: TrainOptions = {}): Promise<TrainOutput> {
    const { signal, onProgress } = options;
    signal?.throwIfAborted();
    const labelIndex = new Map(input.labels.map((label, k) => [label, k]));
    // Checked on the files as given, so that a row number is the file's.
    checkLabels(input.rows, labelIndex, 'training');
    if (input.validation) checkLabels(input.validation, labelIndex, 'validation');
    const { train, holdout } = input.validation ? { train: input.rows, holdout: input.validation } : holdoutSplit(input.rows, input.seed);
    if (train.length === 0) throw new RangeError('no training rows');
    if (holdout.length === 0) {
      throw new RangeError('nothing to measure the model on: no label has 2 rows to split between training and hold-out, and no validation file was given');
    }
    const trainLabels = Uint16Array.from(train, (row) => labelIndex.get(row.label)!);
    const holdoutLabels = Uint16Array.from(holdout, (row) => labelIndex.get(row.label)!);

    const featureStart = this.clock();
    const embedder = await this.options.embedderFor(input.base);
    const totalTexts = train.length + holdout.length;
    const report = (read: number) => onProgress?.({ phase: 'features', epoch: 0, step: read, totalSteps: totalTexts, trainLoss: Number.NaN });
    const trainEmbedded = await this.embedAll(embedder, train, 0, report, signal);
    const holdoutEmbedded = await this.embedAll(embedder, holdout, train.length, report, signal);
    const featureMs = this.clock() - featureStart;

    const trainingStart = this.clock();
    const dimensions = embedder.dimensions;
    const trainFeatures = packFeatures(trainEmbedded.vectors, dimensions);
    const standardisation = fitStandardisation(trainFeatures);
    const { nEpochs, batchSize, learningRateMultiplier } = input.hyperparameters;
    const regression = await trainSoftmaxRegression(
      { features: standardise(trainFeatures, standardisation), labels: trainLabels },
      {
        classes: input.labels.length,
        epochs: nEpochs,
        batchSize,
        learningRate: BASE_LEARNING_RATE * learningRateMultiplier,
        weightDecay: WEIGHT_DECAY,
        seed: input.seed,
      },
      {
        ...(signal ? { signal } : {}),
        ...(onProgress ? { onProgress } : {}),
        holdout: { features: standardise(packFeatures(holdoutEmbedded.vectors, dimensions), standardisation), labels: holdoutLabels },
        clock: this.clock,
      },
    );
    const folded = foldStandardisation(regression.model.weights, regression.model.bias, standardisation);
    const head: ClassifierHead = { base: input.base, labels: [...input.labels], dimensions, ...folded };
    // Measured with the head as it will be served (raw features, float32 weights), not the model it came from.
    const predicted = holdoutEmbedded.vectors.map((vector) => argmax(headLogits(head, vector)));
    const trainingMs = this.clock() - trainingStart;

    const result: TrainingResult = {
      labels: [...input.labels],
      trainRows: train.length,
      holdoutRows: holdout.length,
      holdoutAccuracy: accuracy(predicted, holdoutLabels),
      perLabel: perLabelMetrics(predicted, holdoutLabels, input.labels),
      majorityBaseline: majorityBaseline(trainLabels, holdoutLabels, input.labels),
      trainedTokens: trainEmbedded.tokens * nEpochs,
      epochs: nEpochs,
      steps: regression.steps,
      featureMs,
      trainingMs,
    };
    return { head, result };
  }

  private async embedAll(
    embedder: TextEmbedder,
    rows: LabelledText[],
    readBefore: number,
    report: (read: number) => void,
    signal: AbortSignal | undefined,
  ): Promise<{ vectors: Float32Array[]; tokens: number }> {
    const vectors: Float32Array[] = [];
    let tokens = 0;
    for (let start = 0; start < rows.length; start += this.chunkSize) {
      signal?.throwIfAborted();
      const texts = rows.slice(start, start + this.chunkSize).map((row) => row.text);
      const embedded = await embedder.embed(texts, signal ? { signal } : {});
      if (embedded.length !== texts.length) throw new Error(`the encoder returned ${embedded.length} vectors for ${texts.length} texts`);
      for (const item of embedded) {
        vectors.push(item.vector);
        tokens += item.tokens;
      }
      report(readBefore + vectors.length);
    }
    signal?.throwIfAborted();
    return { vectors, tokens };
  }
}

function checkLabels(rows: LabelledText[], labelIndex: Map<string, number>, file: string): void {
  rows.forEach((row, i) => {
    if (!labelIndex.has(row.label)) throw new RangeError(`${file} row ${i + 1} has label ${JSON.stringify(row.label)}, which is not among the job's labels`);
  });
}

function argmax(values: ArrayLike<number>): number {
  let best = 0;
  for (let k = 1; k < values.length; k++) if (values[k]! > values[best]!) best = k;
  return best;
}
