// Pinned keys on AWS: the jurisdiction a stage's AWS region is in decides the region its GPU upstream carries in the
// router's registry, and the router function's EDGE_MAAS_REGION (synthesized with aws-cdk-lib/assertions).
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { describe, expect, it } from 'vitest';
import { applyRegistryOverlay } from '../../functions/registry/registry-overlay.js';
import { Registry } from '../../functions/registry/registry.js';
import { STAGES } from '../../infra/lib/config.js';
import { jurisdictionOf } from '../../infra/lib/jurisdiction.js';
import { registryOverlay } from '../../infra/lib/registry-overlay.js';
import { RouterFunction } from '../../infra/lib/router-function.js';
import { repoRoot } from '../paths.js';

const inRegion = (region: string) => ({ ...STAGES.dev!, region });

describe('the jurisdiction of an AWS region', () => {
  it('is eu for the EU regions but London (uk) and Zurich (ch), the country elsewhere, none where no rule fits', () => {
    const cases: [string, string | undefined][] = [
      ['eu-west-1', 'eu'], ['eu-central-1', 'eu'], ['eu-north-1', 'eu'], ['eu-south-2', 'eu'], ['eu-west-2', 'uk'], ['eu-central-2', 'ch'],
      ['us-east-1', 'us'], ['us-west-2', 'us'], ['us-gov-west-1', 'us'], ['ca-central-1', 'ca'], ['ap-southeast-2', 'au'], ['ap-northeast-1', 'jp'],
      ['ap-south-1', 'in'], ['ap-southeast-1', 'sg'], ['sa-east-1', 'br'], ['me-south-1', undefined], ['af-south-1', undefined], ['ap-east-1', undefined],
    ];
    expect(cases.map(([region]) => [region, jurisdictionOf(region)])).toEqual(cases);
  });

  it('is the region the stage\'s GPU upstream carries in the router\'s registry, or none', async () => {
    const base = Registry.parse(JSON.parse(await readFile(join(repoRoot, 'models', 'registry.json'), 'utf8')));
    const upstreamsIn = (region: string) => applyRegistryOverlay(base, JSON.stringify(registryOverlay(inRegion(region), 'https://gpu.acme.dev'))).resolve('tiny-stories')!.upstreams;
    expect(upstreamsIn('eu-central-1').map((u) => u.region)).toEqual(['eu']);
    expect(upstreamsIn('eu-west-2').map((u) => u.region)).toEqual(['uk']);
    expect(upstreamsIn('me-south-1')).toEqual([expect.not.objectContaining({ region: expect.anything() })]);
  });

  it('is the router function\'s EDGE_MAAS_REGION when it has one, and absent otherwise', () => {
    const routerEnv = (jurisdiction: string | undefined) => {
      const stack = new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'Router', { env: { region: 'eu-central-1' } });
      new RouterFunction(stack, 'Router', {
        generationUrl: 'https://gpu.acme.dev', registryOverlay: registryOverlay(inRegion('eu-central-1'), 'https://gpu.acme.dev'),
        upstreamKey: new secretsmanager.Secret(stack, 'Key'), logRetentionDays: 14, jurisdiction,
      });
      const [fn] = Object.values(Template.fromStack(stack).findResources('AWS::Lambda::Function')) as { Properties: { Environment: { Variables: Record<string, string> } } }[];
      return fn!.Properties.Environment.Variables;
    };
    const eu = routerEnv('eu');
    expect(eu.EDGE_MAAS_REGION).toBe('eu');
    expect(JSON.parse(eu.REGISTRY_OVERLAY!).models[0].upstreams[0].region).toBe('eu');
    expect(routerEnv(undefined)).not.toHaveProperty('EDGE_MAAS_REGION');
  });
});
