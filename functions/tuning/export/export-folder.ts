/**
 * A tenant model as a standard transformers.js text-classification folder, as a map path -> bytes: the base
 * encoder's config with the tenant's labels, its tokenizer files, the ONNX file with the head merged (the encoder
 * int8 as the base has it, the head float32) and a model card. `pipeline('text-classification', folder,
 * { quantized: true })` loads it.
 */
import { ModelFolderError } from '../../engine/model-config.js';
import { readFolderJson, type FolderReader } from '../../engine/loading/folder-files.js';
import type { ClassifierHead } from '../trainer/classifier-head.js';
import type { TrainingResult } from '../tuning-types.js';
import { mergeHead } from './merge-head.js';
import { modelCard } from './model-card.js';

/** Where transformers.js looks for the int8 model (`quantized: true`). */
export const EXPORTED_ONNX = 'onnx/model_quantized.onnx';
const COPIED = ['tokenizer.json', 'tokenizer_config.json'];

export interface ExportSource {
  /** The tenant model's full name, ft:<base id>:<tenant>:<suffix>:<job id>. */
  name: string;
  jobId: string;
  head: ClassifierHead;
  /** What the job measured on its hold-out; null when it is unknown (the card then says so). */
  result: TrainingResult | null;
  base: {
    /** id@version. */
    ref: string;
    /** The base encoder's folder (sha256-checked by the caller's reader). */
    read: FolderReader;
    /** Its int8 ONNX file in the folder (the registry entry's `onnx`). */
    onnxFile: string;
  };
}

export type ExportedFolder = Map<string, Uint8Array>;

export async function exportFolder(source: ExportSource): Promise<ExportedFolder> {
  const { base, head } = source;
  const where = `base model ${base.ref}`;
  const baseConfig = await readFolderJson<Record<string, unknown>>(base.read, 'config.json', where);
  if (typeof baseConfig !== 'object' || baseConfig === null || Array.isArray(baseConfig)) throw new ModelFolderError(`${where}: config.json is not an object`);
  const onnx = await base.read(base.onnxFile);
  if (!onnx) throw new ModelFolderError(`${where} has no ${base.onnxFile}`);

  const files: ExportedFolder = new Map();
  const json = (value: unknown) => new TextEncoder().encode(`${JSON.stringify(value, null, 2)}\n`);
  files.set('config.json', json(classificationConfig(baseConfig, head.labels)));
  for (const name of COPIED) {
    const bytes = await base.read(name);
    if (!bytes) throw new ModelFolderError(`${where} has no ${name}`);
    files.set(name, bytes);
  }
  files.set(EXPORTED_ONNX, mergeHead(onnx, head));
  const maxLength = maxLengthOf(baseConfig, JSON.parse(new TextDecoder().decode(files.get('tokenizer_config.json')!)) as unknown);
  files.set('README.md', new TextEncoder().encode(modelCard({ ...source, maxLength })));
  return files;
}

/** The base's config as a sequence classifier's: transformers.js picks the model class from model_type. */
export function classificationConfig(base: Record<string, unknown>, labels: string[]): Record<string, unknown> {
  return {
    ...base,
    architectures: ['BertForSequenceClassification'],
    id2label: Object.fromEntries(labels.map((label, id) => [String(id), label])),
    label2id: Object.fromEntries(labels.map((label, id) => [label, id])),
    problem_type: 'single_label_classification',
  };
}

/** The tokens transformers.js keeps of a text: the tokenizer's model_max_length, within the model's positions. */
function maxLengthOf(config: Record<string, unknown>, tokenizerConfig: unknown): number | null {
  const limits = [(tokenizerConfig as { model_max_length?: unknown })?.model_max_length, config.max_position_embeddings].filter(
    (n): n is number => typeof n === 'number' && Number.isInteger(n) && n > 2 && n < 1e6,
  );
  return limits.length ? Math.min(...limits) : null;
}
