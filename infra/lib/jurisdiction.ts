/**
 * The jurisdiction (the registry's REGIONS) an AWS region is in: where a stage's GPU service and router run, for
 * keys pinned to a region (functions/privacy/). The EU's regions are `eu`, except London (`uk`, outside the EU) and
 * Zurich (`ch`); the others map to the country their data stays in. A region of none of them (Middle East, Africa,
 * Hong Kong, Indonesia...) has no jurisdiction: its upstream carries no region, so a pinned key never reaches it.
 */
import type { Region } from '../../functions/registry/registry.js';

const EXACT: Record<string, Region> = {
  'eu-west-2': 'uk',
  'eu-central-2': 'ch',
  'ap-southeast-1': 'sg',
  'ap-southeast-2': 'au',
  'ap-southeast-4': 'au',
  'ap-northeast-1': 'jp',
  'ap-northeast-3': 'jp',
  'ap-south-1': 'in',
  'ap-south-2': 'in',
  'sa-east-1': 'br',
};

const BY_PREFIX: [RegExp, Region][] = [[/^eu-/, 'eu'], [/^us-/, 'us'], [/^ca-/, 'ca']];

export function jurisdictionOf(awsRegion: string): Region | undefined {
  return EXACT[awsRegion] ?? BY_PREFIX.find(([prefix]) => prefix.test(awsRegion))?.[1];
}
