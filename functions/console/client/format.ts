/** Numbers as the pages show them. */
export const usd = (microUsd: number): string => {
  const dollars = microUsd / 1e6;
  if (dollars === 0) return '$0';
  if (Math.abs(dollars) < 0.01) return `$${dollars.toPrecision(3)}`;
  return `$${dollars.toFixed(2)}`;
};
export const percent = (x: number, digits = 1): string => `${(x * 100).toFixed(digits)} %`;
export const ms = (x: number): string => (x < 10 ? `${x.toFixed(1)} ms` : `${Math.round(x)} ms`);
export const count = (n: number): string => n.toLocaleString('en-US');

export interface Price {
  request_micro_usd: number;
  input_token_micro_usd: number;
  output_token_micro_usd: number;
}

/** What the registry's prices make of one request (billing's costMicroUsd). */
export const costOf = (price: Price | undefined, inputTokens: number, outputTokens: number): number | null =>
  price ? price.request_micro_usd + inputTokens * price.input_token_micro_usd + outputTokens * price.output_token_micro_usd : null;
