/** Validates parsed request input against an API schema; the first problem becomes a 400 naming its field. */
import type { z } from '@hono/zod-openapi';
import { invalidRequest, type ApiError } from './errors.js';

type Issue = z.core.$ZodIssue;

/** input[1], parameters.top_k: how a field is named in messages and in error.param. */
function fieldName(path: readonly PropertyKey[]): string {
  return path.reduce<string>((name, key) => (typeof key === 'number' ? `${name}[${key}]` : name ? `${name}.${String(key)}` : String(key)), '');
}

/** A union's own message says little once one branch got far: report that branch's deepest issue instead. */
function mostSpecific(issue: Issue): Issue {
  if (issue.code !== 'invalid_union') return issue;
  const branches = issue.errors.flat().map((inner) => mostSpecific({ ...inner, path: [...issue.path, ...inner.path] } as Issue));
  const deepest = branches.reduce<Issue | null>((best, next) => (next.path.length > (best?.path.length ?? issue.path.length) ? next : best), null);
  return deepest ?? issue;
}

/** A failed validation as the 400 the API answers: its first issue, with the field it is about. */
export function invalidInput(error: z.ZodError): ApiError {
  const issue = mostSpecific(error.issues[0]!);
  const field = fieldName(issue.path);
  const subject = issue.path.length === 1 ? `"${field}"` : field || 'the body';
  return invalidRequest(`${subject} ${issue.message}`, field || null);
}

export function parseBody<S extends z.ZodType>(schema: S, body: unknown): z.output<S> {
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  throw invalidInput(result.error);
}
