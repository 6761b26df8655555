/** The parts of a transformers.js model folder's config.json that classification needs. */
export interface ClassifierConfig {
  modelType: string;
  labels: string[];
  maxLength: number;
}

/** The parts of an encoder folder's config.json that feature extraction needs. */
export interface EncoderConfig {
  modelType: string;
  /** Tokens one window holds, [CLS] and [SEP] included. */
  maxLength: number;
  /** Numbers per vector: the width of last_hidden_state. */
  dimensions: number;
}

export class ModelFolderError extends Error {
  override name = 'ModelFolderError';
}

export function parseClassifierConfig(value: unknown, tokenizerConfig: unknown = {}): ClassifierConfig {
  const config = value as { model_type?: unknown; id2label?: Record<string, unknown>; max_position_embeddings?: unknown };
  if (typeof config !== 'object' || config === null || typeof config.model_type !== 'string') {
    throw new ModelFolderError('config.json has no model_type');
  }
  const id2label = config.id2label;
  if (typeof id2label !== 'object' || id2label === null || Object.keys(id2label).length === 0) {
    throw new ModelFolderError('config.json has no id2label: not a classification model');
  }
  const labels = Object.keys(id2label)
    .map(Number)
    .sort((a, b) => a - b)
    .map((id, index) => {
      const label = id2label[String(id)];
      if (id !== index || typeof label !== 'string') throw new ModelFolderError('config.json id2label must map 0..n-1 to names');
      return label;
    });
  return { modelType: config.model_type, labels, maxLength: maxLengthOf(config, tokenizerConfig) };
}

export function parseEncoderConfig(value: unknown, tokenizerConfig: unknown = {}): EncoderConfig {
  const config = value as { model_type?: unknown; hidden_size?: unknown; max_position_embeddings?: unknown };
  if (typeof config !== 'object' || config === null || typeof config.model_type !== 'string') {
    throw new ModelFolderError('config.json has no model_type');
  }
  const dimensions = config.hidden_size;
  if (typeof dimensions !== 'number' || !Number.isInteger(dimensions) || dimensions <= 0) {
    throw new ModelFolderError('config.json has no hidden_size: the width of the vectors is unknown');
  }
  return { modelType: config.model_type, maxLength: maxLengthOf(config, tokenizerConfig), dimensions };
}

/** The smallest of the tokenizer's model_max_length and the model's positions (tokenizers write 1e30 for none). */
function maxLengthOf(config: { max_position_embeddings?: unknown }, tokenizerConfig: unknown): number {
  const fromTokenizer = (tokenizerConfig as { model_max_length?: unknown }).model_max_length;
  const limits = [fromTokenizer, config.max_position_embeddings].filter(
    (n): n is number => typeof n === 'number' && Number.isInteger(n) && n > 2 && n < 1e6,
  );
  return limits.length ? Math.min(...limits) : 512;
}
