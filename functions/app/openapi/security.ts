/**
 * How the API is authenticated, for the OpenAPI document: an API key as a bearer token, optional (`{}`) because open
 * mode needs none. With it, Swagger UI knows the operations take an Authorization header: its "Authorize" dialog
 * and the curl it shows carry one. The console's reference page authorizes the scheme by this name.
 */
export const API_KEY_SCHEME = 'bearer';

export const apiKeySecurityScheme = {
  type: 'http',
  scheme: 'bearer',
  description: 'An API key (em_…) as `Authorization: Bearer <key>`, where the server runs in keys mode; open mode needs none. Never in the URL.',
} as const;

/** Every operation: with the key where the server wants one, or without (open mode, and /health). */
export const optionalApiKey: Record<string, string[]>[] = [{ [API_KEY_SCHEME]: [] }, {}];
