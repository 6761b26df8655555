/** The id of each request (`x-request-id`, echoed when valid or generated), readable by any later layer. */
const ids = new WeakMap<Request, string>();
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export function assignRequestId(request: Request, generate: () => string): string {
  const given = request.headers.get('x-request-id');
  const id = given && REQUEST_ID.test(given) ? given : generate();
  ids.set(request, id);
  return id;
}

export const requestIdOf = (request: Request): string => ids.get(request) ?? '';
