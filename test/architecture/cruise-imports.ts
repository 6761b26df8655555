/**
 * Runs the import-direction rules of .dependency-cruiser.cjs over a tree (the repository, or a fixture tree in a
 * temporary folder) and lists what they forbid, one "rule: from → to" line per violation.
 */
import { join } from 'node:path';
import { cruise, type ICruiseResult } from 'dependency-cruiser';
import extractDepcruiseOptions from 'dependency-cruiser/config-utl/extract-depcruise-options';
import extractTSConfig from 'dependency-cruiser/config-utl/extract-ts-config';
import { repoRoot } from '../paths.js';

/** The folders the rules judge: production code and the model tools (tests and benchmarks may import anything). */
export const cruisedFolders = ['functions', 'infra', 'models/tools'];

export async function importViolations(baseDir: string, folders: readonly string[] = cruisedFolders): Promise<string[]> {
  const options = await extractDepcruiseOptions(join(repoRoot, '.dependency-cruiser.cjs'));
  const tsConfigFile = join(baseDir, 'tsconfig.json');
  const { output } = await cruise(
    folders.slice(),
    { ...options, baseDir, tsConfig: { fileName: tsConfigFile } },
    {},
    { tsConfig: extractTSConfig(tsConfigFile) },
  );
  const { summary } = output as ICruiseResult;
  return summary.violations.map((v) => {
    const to = v.cycle ? v.cycle.map((step) => step.name).join(' → ') : v.to;
    return `${v.rule.name}: ${v.from} → ${to}`;
  });
}
