/**
 * What the privacy plugin adds to the OpenAPI document of the operations it runs on (/v1/*, /models/*): the request
 * header that makes a request stricter, the answers it may give instead of the route, and the headers it puts on
 * every answer. The core routes do not have to know privacy exists.
 */
import { ErrorBody, jsonResponse } from '../http/openapi-responses.js';
import type { PluginMiddleware } from '../http/app-plugin.js';
import { PRIVACY_HEADER } from './policy.js';
import { PII_COUNT_HEADER } from './screen.js';

export const privacyResponses: PluginMiddleware['responses'] = {
  400: jsonResponse(ErrorBody, `Privacy: ${PRIVACY_HEADER} is malformed, names an unknown setting or value, or gives one setting two values (invalid_privacy_header); names a region nothing here serves (region_not_served); or, under pii=block, the text holds personal data (pii_blocked).`),
  403: jsonResponse(ErrorBody, `Privacy: ${PRIVACY_HEADER} asks for a region other than the one the key is pinned to (region_conflict); the request is pinned to a region this server does not run in, or the model has no upstream there (region_not_here: no retry here changes it); or retention=none forbids what the route stores (retention_forbids_storage).`),
  503: jsonResponse(ErrorBody, 'Privacy: every upstream of the model in the pinned region is failing or its circuit is open (region_unavailable): retry after Retry-After.'),
};

export const privacyParameters: PluginMiddleware['parameters'] = [{
  name: PRIVACY_HEADER, in: 'header', required: false,
  description: 'Makes this request stricter than its key\'s policy, never laxer: "pii=off|mask|block", "retention=standard|none", "region=eu|us|..." separated by ";" or ",". A region other than the key\'s pin is a 403. For example: "pii=mask; region=eu".',
  // No schema example: Swagger UI's "Try it out" fills an optional parameter with it, and every try sent region=eu.
  schema: { type: 'string' },
}];

export const privacyResponseHeaders: PluginMiddleware['responseHeaders'] = {
  [PRIVACY_HEADER]: { description: 'The privacy policy applied to this request: "pii=...; retention=..." and "; region=..." when pinned.', schema: { type: 'string', example: 'pii=mask; retention=standard; region=eu' } },
  [PII_COUNT_HEADER]: { description: 'Under pii=mask or block: the personal data found, as counts per kind (never the values), "none" when nothing was found.', schema: { type: 'string', example: 'email=1, phone=2' } },
};
