/**
 * The docs page's live example: one sentence explained by the default classifier, answered as POST /v1/classify
 * answers `{ input, explain: true }` (the same planning and attribution code, the route's response shape). It runs
 * on the engine directly, outside admission and metering: the page is public, and the answer is kept per process.
 */
import { modelRef } from '../../registry/registry.js';
import { explainResults, explainSettings, planExplanations } from '../explanations.js';
import type { ExplainedExample } from '../openapi/explanation-section.js';
import type { ClassificationDeps } from './classify.js';

/** Words that pull both ways, so that the page shows both colours. */
export const EXAMPLE_SENTENCE = 'A funny, warm film with a weak, predictable plot.';

/** The example's request and answer; null when the default model is not a classifier served here. */
export async function explainExample({ registry, engines }: ClassificationDeps, input = EXAMPLE_SENTENCE): Promise<ExplainedExample | null> {
  const model = registry.resolve(undefined);
  const classifier = model && model.task === 'text-classification' ? engines.get(modelRef(model)) : undefined;
  if (!model || !classifier) return null;
  const request = { input, explain: true } as const;
  const settings = explainSettings(request.explain)!;
  const batch = planExplanations(classifier, [input], 'input');
  const all = await classifier.classify(batch.texts);
  const labels = classifier.labels;
  const explained = explainResults(batch, all, labels, 'softmax', labels.length, settings);
  return {
    request,
    response: {
      model: modelRef(model),
      results: explained.ranked,
      truncated: explained.results.map((r) => r.truncated),
      usage: { input_tokens: all.reduce((sum, r) => sum + r.tokens, 0), texts: explained.results.length, explanation_tokens: explained.explanationTokens },
    },
  };
}
