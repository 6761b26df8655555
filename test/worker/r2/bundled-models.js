// Stands in for functions/worker/bundled-models.js in vitest.workers-r2.config.mts: the committed registry with one
// more edge model, "sst2-r2", whose files are the default model's (same sha256) but are not bundled, so that the
// Worker reads them from R2 through the registry's checksum like any model too large to bundle.
import registry from '../../../models/registry.json';
import sst2BertConfig from '../../../models/sst2-bert/config.json';
import sst2BertTokenizer from '../../../models/sst2-bert/tokenizer.json';
import sst2BertTokenizerConfig from '../../../models/sst2-bert/tokenizer_config.json';
import sst2BertOnnx from '../../../models/sst2-bert/onnx/model_quantized.onnx';

const parsed = JSON.parse(new TextDecoder().decode(registry));
const base = parsed.models.find((m) => m.id === 'sst2-bert');
parsed.models.push({ ...base, id: 'sst2-r2', version: '1', folder: 'sst2-r2', aliases: ['from-r2'] });

export const registryBytes = new TextEncoder().encode(JSON.stringify(parsed)).buffer;

export const modelFolders = {
  'sst2-bert': {
    'config.json': sst2BertConfig,
    'tokenizer.json': sst2BertTokenizer,
    'tokenizer_config.json': sst2BertTokenizerConfig,
    'onnx/model_quantized.onnx': sst2BertOnnx,
  },
};
