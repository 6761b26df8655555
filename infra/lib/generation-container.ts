/**
 * The task's one container: the public vLLM OpenAI server (pulled through this stage's ECR cache of Docker Hub, by
 * digest, weights streamed from the model bucket), or our TypeScript generation server built from this repository
 * (infra/docker/generation.Dockerfile, for linux/amd64 whatever the build machine), with one GPU, logs and a
 * health check on /health.
 */
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Aws, Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import { Platform } from 'aws-cdk-lib/aws-ecr-assets';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import type { GenerationImage } from './config.js';
import { acknowledge } from './nag-suppressions.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
/** ECS accepts at most 300 s; the service's health-check grace period covers longer starts. */
const MAX_START_PERIOD = Duration.seconds(300);

/** What the generation server is: the stage's choice of server, model and logs. */
export interface GenerationServerProps {
  image: GenerationImage;
  /** The model's name on the server: vLLM's --served-model-name, the edge-maas server's GEN_MODEL_ID. */
  servedModelName: string;
  /** vLLM: the ECR repository prefix of this stage's pull-through cache of Docker Hub. */
  dockerHubCachePrefix: string;
  /** vLLM: a Hugging Face token (gated models), given to vLLM as HF_TOKEN. */
  huggingFaceToken?: secretsmanager.ISecret;
  /** Days to keep the container's logs. */
  logRetentionDays: number;
}

/** What the container is wired to: the task it joins, where the weights are, the key it checks, its port. */
export interface GenerationContainerProps extends GenerationServerProps {
  task: ecs.Ec2TaskDefinition;
  modelBucket: s3.IBucket;
  /** Required from every caller: vLLM reads it as VLLM_API_KEY. */
  upstreamKey: secretsmanager.ISecret;
  port: number;
}

/**
 * Where a stage's model lives in the model bucket: for vLLM one prefix per model and Hugging Face commit, for the
 * edge-maas server the folder of the model folder's last name.
 */
export const modelPrefix = (image: GenerationImage): string => (image.kind === 'vllm' ? `${image.model}/${image.revision}` : image.model.split('/').pop()!);

export function generationContainer(scope: Construct, props: GenerationContainerProps): ecs.ContainerDefinition {
  const { image, task, modelBucket, port } = props;
  const logGroup = new logs.LogGroup(scope, 'GenerationLogs', { retention: props.logRetentionDays, removalPolicy: RemovalPolicy.DESTROY });
  const health = (command: string) => ({ command: ['CMD-SHELL', command], interval: Duration.seconds(15), startPeriod: MAX_START_PERIOD, retries: 3 });
  const common = {
    gpuCount: 1,
    memoryReservationMiB: 12_288,
    portMappings: [{ containerPort: port }],
    logging: ecs.LogDrivers.awsLogs({ logGroup, streamPrefix: 'generation' }),
    // PyTorch and NCCL use /dev/shm; Docker's default is 64 MiB.
    linuxParameters: new ecs.LinuxParameters(scope, 'GenerationLinux', { sharedMemorySize: 2048 }),
  };
  const region = { AWS_REGION: Aws.REGION, AWS_DEFAULT_REGION: Aws.REGION, AWS_EC2_METADATA_DISABLED: 'true' };
  if (image.kind === 'vllm') {
    const secrets: Record<string, ecs.Secret> = { VLLM_API_KEY: ecs.Secret.fromSecretsManager(props.upstreamKey) };
    if (props.huggingFaceToken) secrets.HF_TOKEN = ecs.Secret.fromSecretsManager(props.huggingFaceToken);
    return task.addContainer('vllm', {
      ...common,
      image: ecs.ContainerImage.fromRegistry(dockerHubThroughCache(scope, task, image, props.dockerHubCachePrefix)),
      command: [
        '--model', `s3://${modelBucket.bucketName}/${modelPrefix(image)}/`, '--load-format', 'runai_streamer',
        '--served-model-name', props.servedModelName, '--port', String(port), ...(image.args ?? []),
      ],
      environment: region,
      secrets,
      healthCheck: health(`python3 -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:${port}/health').status == 200 else 1)"`),
    });
  }
  return task.addContainer('edge-maas-generation', {
    ...common,
    image: ecs.ContainerImage.fromAsset(repoRoot, {
      file: 'infra/docker/generation.Dockerfile',
      buildArgs: { PORT: String(port) },
      platform: Platform.LINUX_AMD64, // g5/g6 are x86_64: an arm64 laptop would otherwise build an image they cannot run
      exclude: ['node_modules', '.git', '.data', '.recipe-work', '.wrangler', '.cdk.out', 'bench', 'test', 'models/recipes'],
    }),
    environment: {
      ...region,
      PORT: String(port), HOST: '0.0.0.0', GEN_MODEL_DIR: image.model, GEN_MODEL_ID: props.servedModelName, GEN_EXECUTION_PROVIDER: 'cuda',
      MODEL_S3_URI: `s3://${modelBucket.bucketName}/${modelPrefix(image)}`,
    },
    healthCheck: health(`node -e "fetch('http://127.0.0.1:${port}/health').then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))"`),
  });
}

/**
 * The vLLM image through an ECR pull-through cache rule for Docker Hub, with the user's Docker Hub credentials:
 * anonymous pulls from behind one NAT address share Docker Hub's rate limit, and a cached image stays in-region.
 */
function dockerHubThroughCache(scope: Construct, task: ecs.Ec2TaskDefinition, image: GenerationImage, prefix: string): string {
  const rule = new ecr.CfnPullThroughCacheRule(scope, 'DockerHubCache', {
    ecrRepositoryPrefix: prefix, upstreamRegistry: 'docker-hub', upstreamRegistryUrl: 'registry-1.docker.io', credentialArn: image.dockerHubSecretArn,
  });
  task.node.addDependency(rule);
  const role = task.obtainExecutionRole();
  role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['ecr:GetAuthorizationToken'], resources: ['*'] }));
  role.addToPrincipalPolicy(new iam.PolicyStatement({
    // The first pull of an image creates its cache repository and imports it from Docker Hub.
    actions: ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchCheckLayerAvailability', 'ecr:BatchImportUpstreamImage', 'ecr:CreateRepository'],
    resources: [`arn:${Aws.PARTITION}:ecr:${Aws.REGION}:${Aws.ACCOUNT_ID}:repository/${prefix}/*`],
  }));
  acknowledge(role, [[`AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ecr:<AWS::Region>:<AWS::AccountId>:repository/${prefix}/*]`, 'The cache repositories under this stage\'s pull-through prefix, created on first pull.']]);
  const repository = image.vllmImage!.split(':')[0]!;
  return `${Aws.ACCOUNT_ID}.dkr.ecr.${Aws.REGION}.${Aws.URL_SUFFIX}/${prefix}/${repository}@${image.vllmDigest}`;
}
