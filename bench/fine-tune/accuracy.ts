/**
 * Target 4: accuracy on each task's test rows of our model (the fine-tuning API's result on the task's train rows,
 * "auto" hyperparameters, classified through /v1/classify in batches) against two anchors trained on the same rows
 * in the same run: the majority class, and bag-of-words logistic regression.
 */
import type OpenAI from 'openai';
import { accuracyOf, majorityLabel, predictBagOfWords, trainBagOfWords, type BagOfWordsModel } from './bag-of-words.js';
import { classifyAll, fineTune } from './api.js';
import type { Task } from './datasets.js';

export interface Anchors {
  majority: { label: string; accuracy: number };
  bagOfWords: { accuracy: number; weightDecay: number; terms: number; selection: BagOfWordsModel['selection']; fitS: number };
}

export interface TaskAccuracy extends Anchors {
  task: Task;
  ours: { model: string; accuracy: number; holdoutAccuracy: number | null };
}

export async function anchors(task: Task, seed: number): Promise<Anchors> {
  const label = majorityLabel(task.train);
  const started = performance.now();
  const bow = await trainBagOfWords(task.train, seed);
  const fitS = (performance.now() - started) / 1000;
  const accuracy = accuracyOf(predictBagOfWords(bow, task.test.map((row) => row.text)), task.test);
  console.log(`${task.name}: majority ${accuracyOf(task.test.map(() => label), task.test).toFixed(3)}, bag-of-words ${accuracy.toFixed(3)} (L2 ${bow.weightDecay}, ${bow.vocabulary.size} terms, ${fitS.toFixed(0)} s)`);
  return {
    majority: { label, accuracy: accuracyOf(task.test.map(() => label), task.test) },
    bagOfWords: { accuracy, weightDecay: bow.weightDecay, terms: bow.vocabulary.size, selection: bow.selection, fitS },
  };
}

/** Our model on the task's test rows; `trained` reuses a model already fine-tuned on exactly task.train. */
export async function ourAccuracy(url: string, client: OpenAI, task: Task, seed: number, suffix: string, trained?: { model: string; holdoutAccuracy: number | null }): Promise<TaskAccuracy['ours']> {
  let model = trained?.model;
  let holdoutAccuracy = trained?.holdoutAccuracy ?? null;
  if (!model) {
    const job = await fineTune(client, task.train, seed, suffix);
    model = job.fine_tuned_model!;
    holdoutAccuracy = (job as unknown as { result: { holdout_accuracy: number } | null }).result?.holdout_accuracy ?? null;
  }
  const predicted = await classifyAll(url, model, task.test.map((row) => row.text));
  const accuracy = accuracyOf(predicted, task.test);
  console.log(`${task.name}: ours ${accuracy.toFixed(3)} (${model})`);
  return { model, accuracy, holdoutAccuracy };
}
