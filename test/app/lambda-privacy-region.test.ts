// The Lambda router's jurisdiction (EDGE_MAAS_REGION, set by the CDK stack): one of the registry's regions or none;
// anything else stops the app's build with a message naming the variable, instead of pinning keys to a typo.
import { describe, expect, it } from 'vitest';
import { regionFromEnv } from '../../functions/lambda/policies-and-routes.js';

describe('EDGE_MAAS_REGION on the Lambda router', () => {
  it('is a region of the registry, or none when unset or empty', () => {
    expect(regionFromEnv({ EDGE_MAAS_REGION: 'eu' })).toBe('eu');
    expect(regionFromEnv({ EDGE_MAAS_REGION: 'uk' })).toBe('uk');
    expect(regionFromEnv({})).toBeUndefined();
    expect(regionFromEnv({ EDGE_MAAS_REGION: '' })).toBeUndefined();
  });

  it('refuses anything else, naming the variable', () => {
    expect(() => regionFromEnv({ EDGE_MAAS_REGION: 'eu-west-1' })).toThrow(/EDGE_MAAS_REGION must be one of eu, us, .*not "eu-west-1"/);
    expect(() => regionFromEnv({ EDGE_MAAS_REGION: 'EU' })).toThrow(/EDGE_MAAS_REGION/);
  });
});
