// The registry and the edge models' files, imported statically so that wrangler bundles them with the Worker.
// wrangler.toml's Data rules make each import an ArrayBuffer of the file's exact bytes (checked against the
// registry's sha256 at start-up). Plain JavaScript because TypeScript would type the .json imports as objects.
// test/app/worker-bundle.test.ts fails when a registry edge model or file is missing here.
import registry from '../../models/registry.json';
import gloveBilstmConfig from '../../models/sst2-glove-bilstm-v2/config.json';
import gloveBilstmTokenizer from '../../models/sst2-glove-bilstm-v2/tokenizer.json';
import gloveBilstmTokenizerConfig from '../../models/sst2-glove-bilstm-v2/tokenizer_config.json';
import gloveBilstmOnnx from '../../models/sst2-glove-bilstm-v2/onnx/model_quantized.onnx';
import sst2BertConfig from '../../models/sst2-bert/config.json';
import sst2BertTokenizer from '../../models/sst2-bert/tokenizer.json';
import sst2BertTokenizerConfig from '../../models/sst2-bert/tokenizer_config.json';
import sst2BertOnnx from '../../models/sst2-bert/onnx/model_quantized.onnx';
// Fine-tuning's shared encoder: tenant heads are trained and served over its features.
import electraConfig from '../../models/electra-imdb-small/config.json';
import electraTokenizer from '../../models/electra-imdb-small/tokenizer.json';
import electraTokenizerConfig from '../../models/electra-imdb-small/tokenizer_config.json';
import electraOnnx from '../../models/electra-imdb-small/onnx/model_quantized.onnx';

export const registryBytes = registry;

export const modelFolders = {
  'sst2-glove-bilstm-v2': {
    'config.json': gloveBilstmConfig,
    'tokenizer.json': gloveBilstmTokenizer,
    'tokenizer_config.json': gloveBilstmTokenizerConfig,
    'onnx/model_quantized.onnx': gloveBilstmOnnx,
  },
  'sst2-bert': {
    'config.json': sst2BertConfig,
    'tokenizer.json': sst2BertTokenizer,
    'tokenizer_config.json': sst2BertTokenizerConfig,
    'onnx/model_quantized.onnx': sst2BertOnnx,
  },
  'electra-imdb-small': {
    'config.json': electraConfig,
    'tokenizer.json': electraTokenizer,
    'tokenizer_config.json': electraTokenizerConfig,
    'onnx/model_quantized.onnx': electraOnnx,
  },
};
