import { describe, expect, it } from 'vitest';
import { isId, newEventId, newFileId, newJobId, randomBase36 } from '../../functions/tuning/ids.js';

describe('fine-tuning ids', () => {
  it('have the prefix and 24 base-36 characters', () => {
    expect(newFileId()).toMatch(/^file-[0-9a-z]{24}$/);
    expect(newJobId()).toMatch(/^ftjob-[0-9a-z]{24}$/);
    expect(newEventId()).toMatch(/^ftevent-[0-9a-z]{24}$/);
  });

  it('do not repeat and use every character about equally often', () => {
    const ids = new Set(Array.from({ length: 2_000 }, newJobId));
    expect(ids.size).toBe(2_000);
    const counts = new Map<string, number>();
    for (const char of randomBase36(36_000)) counts.set(char, (counts.get(char) ?? 0) + 1);
    expect(counts.size).toBe(36);
    // 1,000 expected per character; a modulo bias on bytes 252..255 would add about 16 to the first four.
    expect(Math.min(...counts.values())).toBeGreaterThan(850);
    expect(Math.max(...counts.values())).toBeLessThan(1_150);
  });

  it('tells our shapes from others', () => {
    expect(isId('file-', newFileId())).toBe(true);
    expect(isId('file-', newJobId())).toBe(false);
    expect(isId('ftjob-', 'ftjob-../../etc/passwd')).toBe(false);
    expect(isId('ftjob-', `ftjob-${'A'.repeat(24)}`)).toBe(false);
  });
});
