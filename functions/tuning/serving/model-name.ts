/** Tenant model names, OpenAI's shape: ft:<base id>:<tenant>:<suffix>:<job id>. */
import { isId } from '../ids.js';

export const TENANT_MODEL_PREFIX = 'ft:';

/** The job that made the model, from the name's last part (with or without its "ftjob-" prefix); null if none. */
export function jobIdOfModelName(name: string): string | null {
  if (!name.startsWith(TENANT_MODEL_PREFIX)) return null;
  const last = name.slice(name.lastIndexOf(':') + 1);
  const id = last.startsWith('ftjob-') ? last : `ftjob-${last}`;
  return isId('ftjob-', id) ? id : null;
}
