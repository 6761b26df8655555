/**
 * Models that only some callers see: a tenant's fine-tuned classifiers (functions/tuning/ implements this). The
 * core routes ask it for a name the registry does not know, with the caller's tenant (null in open mode), so that
 * another tenant's model answers 404 exactly as a name nobody serves.
 */
import type { ModelEntry } from '../../registry/registry.js';
import type { TextClassifier } from './text-classifier.js';

export interface TenantModel {
  /** A registry-shaped entry (task text-classification, its labels and price) under the model's full name. */
  entry: ModelEntry;
  /** Who owns it, and when it was made (unix seconds): OpenAI's model object. */
  ownedBy: string;
  created: number;
  classifier: TextClassifier;
}

export interface TenantModels {
  /** Whether `name` has the shape of a tenant model's name ("ft:..."), whoever owns it. */
  claims(name: string): boolean;
  /** The caller's model of that name; null when it does not exist or belongs to another tenant. */
  resolve(name: string, tenantId: string | null): Promise<TenantModel | null>;
  list(tenantId: string | null): Promise<Omit<TenantModel, 'classifier'>[]>;
  /** Deletes the caller's model; false when the caller has none of that name. */
  remove(name: string, tenantId: string | null): Promise<boolean>;
}
