/**
 * Checks a stage's configuration at synth, before CloudFormation creates anything: a bad certificate ARN otherwise
 * fails only when the listener is created, minutes into the first deploy, and rolls everything back. Placeholders
 * (account 111111111111, all-zero ids) pass an offline synth but are refused once the deploying account is known.
 */
import type { StageConfig } from './config.js';

const CERTIFICATE_ARN = /^arn:aws(?:-[a-z]+)*:acm:([a-z]{2}(?:-[a-z]+)+-\d):(\d{12}):certificate\/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const SECRET_ARN = /^arn:aws(?:-[a-z]+)*:secretsmanager:([a-z]{2}(?:-[a-z]+)+-\d):(\d{12}):secret:.+-[A-Za-z0-9]{6}$/;
const PLACEHOLDER_ACCOUNT = '111111111111';
const isZeros = (value: string) => /^[0:-]*$/.test(value.replace(/^sha256:/, ''));

export function validateStage(config: StageConfig): StageConfig {
  const fail = (message: string): never => {
    throw new Error(`${config.name}: ${message}`);
  };
  if (config.instanceTypes.length === 0) fail('instanceTypes needs at least one g5 or g6 size');
  for (const type of config.instanceTypes) if (!/^g[56]\.\w+$/.test(type)) fail(`instanceTypes must be g5 or g6 sizes, not ${type}`);
  if (!Number.isInteger(config.minCapacity) || config.minCapacity < 0) fail('minCapacity must be an integer ≥ 0');
  if (!Number.isInteger(config.maxCapacity) || config.maxCapacity < Math.max(1, config.minCapacity)) fail('maxCapacity must be ≥ 1 and ≥ minCapacity');
  if (!(config.taskStartSeconds > 0 && config.wakeSeconds >= config.taskStartSeconds)) fail('wakeSeconds must be ≥ taskStartSeconds > 0');
  if (config.routerReservedConcurrency !== undefined && !(Number.isInteger(config.routerReservedConcurrency) && config.routerReservedConcurrency > 0)) fail('routerReservedConcurrency must be a positive integer');

  const certificate = CERTIFICATE_ARN.exec(config.certificateArn);
  if (!certificate) fail(`certificateArn must be an ACM certificate ARN (arn:aws:acm:<region>:<account>:certificate/<uuid>), not ${config.certificateArn}`);
  if (certificate![1] !== config.region) fail(`certificateArn is in ${certificate![1]}; the load balancer needs a certificate in ${config.region}`);

  const image = config.image;
  if (image.kind === 'vllm') {
    if (!image.revision || !/^[0-9a-f]{40}$/.test(image.revision)) fail('a vllm image needs the model revision (a 40-hex-digit Hugging Face commit)');
    if (!image.vllmImage || !/^[\w.-]+\/[\w.-]+:[\w.-]+$/.test(image.vllmImage)) fail('a vllm image needs vllmImage as <namespace>/<name>:<tag> on Docker Hub');
    if (!image.vllmDigest || !/^sha256:[0-9a-f]{64}$/.test(image.vllmDigest)) fail('a vllm image needs vllmDigest (sha256:<64 hex digits>)');
    if (!image.dockerHubSecretArn || !SECRET_ARN.test(image.dockerHubSecretArn) || !image.dockerHubSecretArn.includes(':secret:ecr-pullthroughcache/')) {
      fail('a vllm image needs dockerHubSecretArn: a Secrets Manager ARN whose name starts with ecr-pullthroughcache/');
    }
    if (image.huggingFaceTokenSecretArn !== undefined && !SECRET_ARN.test(image.huggingFaceTokenSecretArn)) fail('huggingFaceTokenSecretArn must be a Secrets Manager ARN');
  }

  // What an offline synth may leave as placeholders, a deploy may not.
  if (config.account) {
    const placeholders = [
      certificate![2] === PLACEHOLDER_ACCOUNT || isZeros(config.certificateArn.split('/').pop()!) ? 'certificateArn' : null,
      /(^|\.)example\.com$/.test(config.generationHostname) ? 'generationHostname' : null,
      config.alarmEmail ? null : 'alarmEmail',
      image.kind === 'vllm' && isZeros(image.revision!) ? 'image.revision' : null,
      image.kind === 'vllm' && isZeros(image.vllmDigest!) ? 'image.vllmDigest' : null,
      image.kind === 'vllm' && image.dockerHubSecretArn!.includes(`:${PLACEHOLDER_ACCOUNT}:`) ? 'image.dockerHubSecretArn' : null,
    ].filter((p): p is string => p !== null);
    if (placeholders.length > 0) fail(`replace the placeholders in infra/lib/config.ts before deploying: ${placeholders.join(', ')} (docs/DEPLOY.md, step 2.3)`);
    if (certificate![2] !== config.account) fail(`certificateArn belongs to account ${certificate![2]}, but this deploy goes to ${config.account}`);
  }
  return config;
}
