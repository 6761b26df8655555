// Item 12 of issue 19: a stage's configuration fails at synth, not minutes into a deploy. Offline (no account
// known) the placeholders pass so that `npm run synth:aws` works anywhere; once the CLI knows the deploying
// account they are refused, all named at once.
import { describe, expect, it } from 'vitest';
import { STAGES, type StageConfig } from '../../infra/lib/config.js';
import { validateStage } from '../../infra/lib/validate-stage.js';

const ready = (base: StageConfig, account = '222222222222'): StageConfig => ({
  ...base, account, alarmEmail: 'ops@example.org', generationHostname: 'gpu.acme.dev',
  certificateArn: `arn:aws:acm:us-east-1:${account}:certificate/1b4e28ba-2fa1-41d2-883f-0016d3cca427`,
  image: base.image.kind === 'vllm'
    ? { ...base.image, revision: 'a'.repeat(40), vllmDigest: `sha256:${'b'.repeat(64)}`, dockerHubSecretArn: `arn:aws:secretsmanager:us-east-1:${account}:secret:ecr-pullthroughcache/docker-hub-AbCdEf` }
    : base.image,
});

describe('stage configuration checks', () => {
  it('accept the checked-in stages offline, and filled-in ones for a deploy', () => {
    for (const stage of Object.values(STAGES)) {
      expect(validateStage(stage)).toBe(stage);
      expect(() => validateStage(ready(stage))).not.toThrow();
    }
  });

  it('refuse a certificate ARN that is not one, before CloudFormation would', () => {
    const dev = STAGES.dev!;
    for (const arn of ['arn:aws:acm:us-east-1:111111111111:certificate/replace-with-yours', 'arn:aws:acm:us-east-1:1111:certificate/1b4e28ba-2fa1-41d2-883f-0016d3cca427', 'arn:aws:iam::111111111111:server-certificate/x']) {
      expect(() => validateStage({ ...dev, certificateArn: arn }), arn).toThrow(/certificateArn must be an ACM certificate ARN/);
    }
    expect(() => validateStage({ ...ready(dev), certificateArn: 'arn:aws:acm:eu-west-1:222222222222:certificate/1b4e28ba-2fa1-41d2-883f-0016d3cca427' })).toThrow(/is in eu-west-1; the load balancer needs a certificate in us-east-1/);
    expect(() => validateStage({ ...ready(dev), certificateArn: 'arn:aws:acm:us-east-1:333333333333:certificate/1b4e28ba-2fa1-41d2-883f-0016d3cca427' })).toThrow(/belongs to account 333333333333, but this deploy goes to 222222222222/);
  });

  it('refuse the placeholders once the deploying account is known, naming each', () => {
    expect(() => validateStage({ ...STAGES.dev!, account: '222222222222' })).toThrow(/placeholders .*: certificateArn, generationHostname, alarmEmail/);
    expect(() => validateStage({ ...STAGES.prod!, account: '222222222222' })).toThrow(/image\.revision, image\.vllmDigest, image\.dockerHubSecretArn/);
  });

  it('refuse a vLLM stage without a pinned image, revision or Docker Hub credentials', () => {
    const prod = ready(STAGES.prod!);
    expect(() => validateStage({ ...prod, image: { ...prod.image, vllmDigest: undefined } })).toThrow(/vllmDigest/);
    expect(() => validateStage({ ...prod, image: { ...prod.image, revision: 'main' } })).toThrow(/revision/);
    expect(() => validateStage({ ...prod, image: { ...prod.image, dockerHubSecretArn: 'arn:aws:secretsmanager:us-east-1:222222222222:secret:dockerhub-AbCdEf' } })).toThrow(/ecr-pullthroughcache/);
    expect(() => validateStage({ ...prod, instanceTypes: ['p4d.24xlarge'] })).toThrow(/g5 or g6/);
  });
});
