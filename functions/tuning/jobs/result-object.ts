/**
 * A job's result as its tenant reads it: snake_case, as OpenAI's objects are. The job's `result` (routes) and its
 * result file (result_files[0]) are both this shape, so a client parses one and reads the other the same way.
 */
import type { TrainingResult } from '../tuning-types.js';

/** Whether the model measured worse on its hold-out than always answering the most frequent training label. */
export const isBelowMajorityBaseline = (result: TrainingResult): boolean => result.holdoutAccuracy < result.majorityBaseline.accuracy;

export const resultObject = (result: TrainingResult) => ({
  labels: result.labels,
  train_rows: result.trainRows,
  holdout_rows: result.holdoutRows,
  holdout_accuracy: result.holdoutAccuracy,
  per_label: result.perLabel.map((m) => ({ label: m.label, precision: m.precision, recall: m.recall, support: m.support })),
  majority_baseline: { label: result.majorityBaseline.label, accuracy: result.majorityBaseline.accuracy },
  below_majority_baseline: result.belowMajorityBaseline ?? isBelowMajorityBaseline(result),
  trained_tokens: result.trainedTokens,
  epochs: result.epochs,
  steps: result.steps,
  feature_ms: result.featureMs,
  training_ms: result.trainingMs,
});
