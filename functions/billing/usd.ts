/** Micro-USD as people read dollars: cents when there are some, else as many decimals as it takes (0.001 USD, not 0.00). */
export function formatUsd(microUsd: number): string {
  const usd = microUsd / 1e6;
  if (usd === 0 || Math.abs(usd) >= 0.01) return `${usd.toFixed(2)} USD`;
  return `${Number(usd.toPrecision(2))} USD`;
}
