// Stands in for functions/worker/bundled-models.js in vitest.workers-r2.config.mts: the same bundle (imported from
// that module, which the alias does not match), with one more edge model in the registry, "sst2-r2", whose files are
// the default model's (same sha256) but are not bundled, so that the Worker reads them from R2 through the
// registry's checksum like any model too large to bundle.
import { modelFolders, registryBytes as bundledRegistry } from '../../../functions/worker/bundled-models.js';

const parsed = JSON.parse(new TextDecoder().decode(bundledRegistry));
const base = parsed.models.find((m) => m.id === 'sst2-bert');
parsed.models.push({ ...base, id: 'sst2-r2', version: '1', folder: 'sst2-r2', aliases: ['from-r2'] });

export const registryBytes = new TextEncoder().encode(JSON.stringify(parsed)).buffer;

export { modelFolders };
