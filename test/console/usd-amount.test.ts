// Dollars as typed into the console's budget fields and the keys CLI's --budget-usd: read exactly, or a message.
import { describe, expect, it } from 'vitest';
import { usdAmount } from '../../functions/console/client/usd-amount.js';

describe('usdAmount', () => {
  it.each([
    ['25', 25_000_000], ['2.5', 2_500_000], ['19.99', 19_990_000], ['.5', 500_000], ['3.', 3_000_000], [' 7 ', 7_000_000],
    ['0', 0], ['0.000', 0], ['0.000001', 1], ['1.2345670', 1_234_567], ['1000000', 1e12], ['0001.10', 1_100_000],
  ])('reads %j as %d micro-USD', (typed, microUsd) => {
    expect(usdAmount(typed)).toEqual({ microUsd });
  });

  it.each([
    ['', /enter an amount/], ['-1', /0 or more/], ['-', /0 or more/], ['1,5', /comma/], ['1,500', /comma/], ['2.5.1', /not an amount/],
    ['5e', /not an amount/], ['1e-7', /not an amount/], ['0x10', /not an amount/], ['$5', /not an amount/], ['Infinity', /not an amount/],
    ['0.0000001', /more than 6 decimals/], ['1.0000005', /more than 6 decimals/], ['1000000.01', /at most \$1,000,000/], ['99999999', /at most/],
  ])('refuses %j', (typed, problem) => {
    const read = usdAmount(typed);
    expect(read).toHaveProperty('problem');
    expect((read as { problem: string }).problem).toMatch(problem);
  });
});
