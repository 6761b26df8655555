/**
 * The import-direction check (.dependency-cruiser.cjs, drawn in docs/ARCHITECTURE.md): the repository has no import
 * that points the wrong way, and the check is shown to catch each kind of wrong-way import in fixture trees.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../paths.js';
import { importViolations } from './cruise-imports.js';
import { layerMatrixTree, specialCaseTree, type FixtureTree } from './fixture-trees.js';

describe('the repository', () => {
  it('has no import that points the wrong way, and no cycle', async () => {
    expect(await importViolations(repoRoot)).toEqual([]);
  });
});

describe('the check itself', () => {
  const trees: FixtureTree[] = [];
  afterAll(async () => {
    await Promise.all(trees.map((tree) => tree.remove()));
  });

  it('reports every import between layers that the target forbids, and only those', async () => {
    const tree = await layerMatrixTree();
    trees.push(tree);
    expect((await importViolations(tree.dir, ['functions'])).sort()).toEqual(tree.expected.slice().sort());
  });

  it('reports entry files, runtime-only modules, test code, unlisted folders, cycles and unresolvable imports', async () => {
    const tree = await specialCaseTree();
    trees.push(tree);
    expect((await importViolations(tree.dir)).sort()).toEqual(tree.expected.slice().sort());
  });
});
