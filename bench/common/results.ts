/** Writes one benchmark's section of bench/RESULTS.md (between its markers), leaving the other sections as they are. */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { repoRoot } from '../../functions/node/shared-paths.js';

export async function writeResultsSection(name: string, heading: string, table: string): Promise<void> {
  const path = join(repoRoot, 'bench', 'RESULTS.md');
  const start = `<!-- bench:${name}:start -->`;
  const end = `<!-- bench:${name}:end -->`;
  let results = await readFile(path, 'utf8').catch(() => '# Benchmark results\n\nEach section is written by its benchmark; the command is in its heading.\n');
  if (!results.includes(start)) results += `\n## ${heading}\n\n${start}\n${end}\n`;
  const [before, rest] = [results.slice(0, results.indexOf(start)), results.slice(results.indexOf(end) + end.length)];
  await writeFile(path, `${before}${start}\n${table}\n${end}${rest}`);
}
