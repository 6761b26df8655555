/**
 * A tenant's classifier: a linear layer over the base encoder's pooled features (standardisation folded into the
 * weights), so one encoder serves every tenant and a tenant model costs kilobytes. Encoded as bytes to store it.
 */
export interface ClassifierHead {
  /** The base encoder, id@version. */
  base: string;
  labels: string[];
  dimensions: number;
  /** labels.length x dimensions, row-major. */
  weights: Float32Array;
  /** One per label. */
  bias: Float32Array;
}
