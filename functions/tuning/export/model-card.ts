/** The exported folder's README.md: what the model is, what it measured, and how it differs from our serving. */
import type { LabelMetrics, TrainingResult } from '../tuning-types.js';

export interface CardSource {
  name: string;
  jobId: string;
  head: { labels: string[]; dimensions: number };
  result: TrainingResult | null;
  base: { ref: string };
  /** Tokens transformers.js keeps of a text ([CLS] and [SEP] included); null when the base does not say. */
  maxLength: number | null;
}

const percent = (x: number) => `${(100 * x).toFixed(2)} %`;
/** Labels are the tenant's own strings: keep them from breaking the table. */
const cell = (text: string) => text.replace(/[\\|]/g, (ch) => `\\${ch}`).replace(/[\r\n]+/g, ' ');

function metricsSection(result: TrainingResult | null): string[] {
  if (!result) return ['## Hold-out metrics', '', 'Not recorded for this job.', ''];
  const row = (m: LabelMetrics) => `| ${cell(m.label)} | ${percent(m.precision)} | ${percent(m.recall)} | ${m.support} |`;
  return [
    '## Hold-out metrics',
    '',
    `Measured by the fine-tuning job on ${result.holdoutRows} hold-out rows after training on ${result.trainRows} rows ` +
      `(${result.epochs} epochs, ${result.steps} steps, ${result.trainedTokens} trained tokens):`,
    '',
    `- accuracy: ${percent(result.holdoutAccuracy)}`,
    `- majority-class baseline (always "${result.majorityBaseline.label}"): ${percent(result.majorityBaseline.accuracy)}`,
    '',
    '| label | precision | recall | hold-out rows |',
    '| --- | --- | --- | --- |',
    ...result.perLabel.map(row),
    '',
  ];
}

export function modelCard({ name, jobId, head, result, base, maxLength }: CardSource): string {
  const window = maxLength === null ? "the tokenizer's maximum length" : `${maxLength} tokens ([CLS] and [SEP] included)`;
  return [
    `# ${name}`,
    '',
    `A text classifier fine-tuned by job \`${jobId}\` on the base encoder \`${base.ref}\`: a linear head over the mean of`,
    "the encoder's last hidden state across the text's tokens (its attention mask), merged into one ONNX graph.",
    '',
    `Labels (id: label): ${head.labels.map((label, id) => `${id}: ${JSON.stringify(label)}`).join(', ')}.`,
    '',
    ...metricsSection(result),
    '## Files',
    '',
    '- `config.json`: the base encoder\'s config with this model\'s `id2label` / `label2id`.',
    '- `tokenizer.json`, `tokenizer_config.json`: the base encoder\'s tokenizer, unchanged.',
    `- \`onnx/model_quantized.onnx\`: inputs \`input_ids\`, \`attention_mask\`, \`token_type_ids\`; output \`logits\` [batch, ${head.labels.length}].`,
    `  The encoder's weights are int8 (dynamically quantized, as the base ships them); the pooling and the head`,
    `  (${head.labels.length} x ${head.dimensions} weights and the bias) stay float32.`,
    '',
    '## Use',
    '',
    '```js',
    "import { env, pipeline } from '@xenova/transformers';",
    "env.localModelPath = '/path/to/the/parent/folder/';",
    "env.allowRemoteModels = false;",
    "const classify = await pipeline('text-classification', '<this folder>', { quantized: true });",
    "console.log(await classify('a text to classify', { topk: null }));",
    '```',
    '',
    '## Long texts',
    '',
    `transformers.js truncates a text to ${window}. Our server reads a longer text in several windows and averages`,
    'their pooled features, so for such texts the scores of this folder and of the served model differ; for a text',
    'within one window they are the same.',
    '',
  ].join('\n');
}
