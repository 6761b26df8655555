/**
 * The task's one container: the public vLLM OpenAI server, or our TypeScript generation server built from this
 * repository (infra/docker/generation.Dockerfile), with one GPU, logs, and a health check on /health.
 */
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import type { StageConfig } from './config.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const PORT = 8000;

export function generationContainer(scope: Construct, task: ecs.Ec2TaskDefinition, config: StageConfig, modelBucket: s3.IBucket): ecs.ContainerDefinition {
  const logGroup = new logs.LogGroup(scope, 'GenerationLogs', { retention: config.logRetentionDays, removalPolicy: RemovalPolicy.DESTROY });
  const common = {
    gpuCount: 1,
    memoryReservationMiB: 12_288,
    portMappings: [{ containerPort: PORT }],
    logging: ecs.LogDrivers.awsLogs({ logGroup, streamPrefix: 'generation' }),
  };
  const { image } = config;
  if (image.kind === 'vllm') {
    return task.addContainer('vllm', {
      ...common,
      image: ecs.ContainerImage.fromRegistry(`vllm/vllm-openai:${image.vllmTag ?? 'latest'}`),
      command: ['--model', image.model, '--port', String(PORT), ...(image.args ?? [])],
      environment: { MODEL_BUCKET: modelBucket.bucketName },
      healthCheck: {
        command: ['CMD-SHELL', `python3 -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:${PORT}/health').status == 200 else 1)"`],
        interval: Duration.seconds(15),
        startPeriod: Duration.minutes(10), // weights download and load before the first answer
        retries: 3,
      },
    });
  }
  return task.addContainer('edge-maas-generation', {
    ...common,
    image: ecs.ContainerImage.fromAsset(repoRoot, { file: 'infra/docker/generation.Dockerfile', exclude: ['node_modules', '.git', '.data', '.recipe-work', '.wrangler', '.cdk.out', 'bench', 'test', 'models/recipes'] }),
    environment: {
      PORT: String(PORT), HOST: '0.0.0.0', GEN_MODEL_DIR: image.model, GEN_EXECUTION_PROVIDER: 'cuda',
      MODEL_S3_URI: `s3://${modelBucket.bucketName}/${image.model.split('/').pop()}`,
    },
    healthCheck: {
      command: ['CMD-SHELL', `node -e "fetch('http://127.0.0.1:${PORT}/health').then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))"`],
      interval: Duration.seconds(15),
      startPeriod: Duration.minutes(2),
      retries: 3,
    },
  });
}
