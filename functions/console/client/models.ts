/** GET /v1/models as the pages use it. */
import { call } from './api.js';
import type { Price } from './format.js';

export interface ModelCard {
  id: string;
  task: string;
  runtime: string;
  aliases?: string[];
  labels?: string[];
  limits?: { max_tokens: number; max_batch: number };
  price?: Price;
  owned_by?: string;
}

export async function listModels(): Promise<ModelCard[]> {
  return (await call<{ data: ModelCard[] }>('/v1/models')).data;
}
