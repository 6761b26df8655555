/**
 * Builds a FeatureExtractor from a transformers.js encoder folder's files, in any runtime: the files come through a
 * reader (disk, bundled modules, a bucket) and the ONNX session through a factory (onnxruntime-web or -node).
 */
import type { ClassifierFiles } from '../loading/classifier-from-files.js';
import { scalesActivationsPerRun } from '../loading/batch-dependence.js';
import { readFolderJson, readOptionalFolderJson } from '../loading/folder-files.js';
import { ModelFolderError, parseEncoderConfig } from '../model-config.js';
import { autoTokenizer } from '../tokenizer/auto-tokenizer.js';
import { FeatureExtractor, type FeatureExtractorOptions } from './feature-extractor.js';

export type EncoderFiles = Omit<ClassifierFiles, 'onRun' | 'maxRunTokens'> & Pick<FeatureExtractorOptions, 'onRun' | 'maxWindows' | 'maxRunTokens'>;

export async function extractorFromFiles({ read, onnxFile, where, createSession, ...options }: EncoderFiles): Promise<FeatureExtractor> {
  const tokenizerConfig = await readOptionalFolderJson(read, 'tokenizer_config.json', where);
  const config = parseEncoderConfig(await readFolderJson(read, 'config.json', where), tokenizerConfig);
  const tokenizer = autoTokenizer(await readFolderJson(read, 'tokenizer.json', where), { accept: ['WordPiece'], maxLength: config.maxLength });
  const bytes = await read(onnxFile);
  if (!bytes) throw new ModelFolderError(`${where} has no ${onnxFile}`);
  const { session, createTensor } = await createSession(bytes, { optimization: 'basic' });
  if (!session.inputNames.includes('input_ids') || !session.inputNames.includes('attention_mask')) {
    throw new ModelFolderError(`${where}: ${onnxFile} takes no input_ids and attention_mask: not an encoder`);
  }
  return new FeatureExtractor({ session, tokenizer, createTensor, maxLength: config.maxLength, dimensions: config.dimensions, oneWindowPerRun: scalesActivationsPerRun(bytes), ...options });
}
