/**
 * What differs between environments: region, GPU instance types, the model and its server, what the router's
 * registry says about that model, capacity, start-up times, certificate, alarms and the budget.
 */
export interface GenerationImage {
  /** "vllm": the public vLLM OpenAI-compatible server; "edge-maas": our TypeScript generation server (infra/docker). */
  kind: 'vllm' | 'edge-maas';
  /**
   * vLLM: the Hugging Face model id; its weights are staged in the model bucket under `<model>/<revision>/`
   * (docs/DEPLOY.md) and streamed from there. edge-maas: the model folder inside the container (GEN_MODEL_DIR),
   * synced from the model bucket's folder of the same last name.
   */
  model: string;
  /** vLLM: the Hugging Face commit the staged weights come from (40 hex digits): part of the S3 prefix. */
  revision?: string;
  /** vLLM: the image on Docker Hub, pulled through this stage's ECR pull-through cache (never anonymously). */
  vllmImage?: string;
  /** vLLM: the image's digest (`sha256:…`), so every task runs the same bytes. */
  vllmDigest?: string;
  /** vLLM: Secrets Manager ARN of Docker Hub credentials (name starts with `ecr-pullthroughcache/`). */
  dockerHubSecretArn?: string;
  /** vLLM: Secrets Manager ARN of a Hugging Face token, given to vLLM as HF_TOKEN (gated models). */
  huggingFaceTokenSecretArn?: string;
  /** Extra server arguments (vLLM) as given on its command line. */
  args?: string[];
}

/** The registry entry the router serves for this stage's GPU model (snake_case fields as in models/registry.json). */
export interface GenerationModel {
  id: string;
  version: string;
  /** The model's name on the GPU server: vLLM's --served-model-name; the edge-maas server's model folder name. */
  servedName: string;
  aliases: string[];
  maxTokens: number;
  price: { requestMicroUsd: number; inputTokenMicroUsd: number; outputTokenMicroUsd: number };
}

export interface StageConfig {
  name: string;
  account?: string;
  region: string;
  /** g5/g6 sizes with one NVIDIA GPU, in order of preference: the later ones are capacity fallbacks. */
  instanceTypes: string[];
  image: GenerationImage;
  generation: GenerationModel;
  /** 0 lets the GPU service scale to zero when idle (see docs/DEPLOY.md for the cold start). */
  minCapacity: number;
  maxCapacity: number;
  /** Requests per target per minute before another task starts. */
  requestsPerTarget: number;
  /**
   * Seconds from a task's start to its first passing /health on an instance that is already up (image pull, weights,
   * CUDA graph capture): the ECS health-check grace period. Estimated with margin, not measured (docs/DEPLOY.md).
   */
  taskStartSeconds: number;
  /** Seconds from the first refused request to the first answer when scaled to zero: task start plus instance launch. */
  wakeSeconds: number;
  /** ACM certificate (in this stage's region) for the load balancer's HTTPS listener. */
  certificateArn: string;
  /** The name the certificate covers; point it (CNAME) at the load balancer's DNS name (a stack output). */
  generationHostname: string;
  /** Requests per client IP per 5 minutes that the GPU endpoint's WAF lets through. */
  wafRequestsPer5Min: number;
  /** Concurrent router invocations at most (reserved concurrency); undefined leaves the account's pool shared. */
  routerReservedConcurrency?: number;
  /** Where alarms, capacity failures and budget warnings go (an SNS e-mail subscription). */
  alarmEmail?: string;
  /** Monthly AWS cost (USD) that warns at 80 % actual and 100 % forecast. */
  monthlyBudgetUsd: number;
  /** Days to keep logs. */
  logRetentionDays: number;
  /** Deletion protection on the keys and usage tables, kept when the stack is deleted. */
  protectBillingData: boolean;
}

// Each stage must be edited before its first deploy (docs/DEPLOY.md): the account-specific values below are
// placeholders that validateStage refuses once the deploying account is known.
export const STAGES: Record<string, StageConfig> = {
  dev: {
    name: 'dev', region: 'us-east-1', instanceTypes: ['g5.xlarge', 'g6.xlarge'],
    image: { kind: 'edge-maas', model: '/models/stories260K' },
    generation: {
      id: 'stories260K', version: '1', servedName: 'stories260K', aliases: ['tiny-stories'], maxTokens: 512,
      price: { requestMicroUsd: 0, inputTokenMicroUsd: 0.05, outputTokenMicroUsd: 0.2 },
    },
    minCapacity: 0, maxCapacity: 1, requestsPerTarget: 600,
    taskStartSeconds: 600, wakeSeconds: 900,
    certificateArn: 'arn:aws:acm:us-east-1:111111111111:certificate/00000000-0000-0000-0000-000000000000', generationHostname: 'gpu.dev.example.com',
    wafRequestsPer5Min: 3000, routerReservedConcurrency: 10, monthlyBudgetUsd: 150, logRetentionDays: 14,
    protectBillingData: false,
  },
  prod: {
    name: 'prod', region: 'us-east-1', instanceTypes: ['g6.xlarge', 'g5.xlarge'],
    image: {
      kind: 'vllm', model: 'Qwen/Qwen2.5-1.5B-Instruct', revision: '0000000000000000000000000000000000000000',
      vllmImage: 'vllm/vllm-openai:v0.11.0', vllmDigest: 'sha256:0000000000000000000000000000000000000000000000000000000000000000',
      dockerHubSecretArn: 'arn:aws:secretsmanager:us-east-1:111111111111:secret:ecr-pullthroughcache/docker-hub-000000',
      args: ['--max-model-len', '8192'],
    },
    generation: {
      id: 'qwen2.5-1.5b-instruct', version: '1', servedName: 'qwen2.5-1.5b-instruct', aliases: ['qwen-small'], maxTokens: 4096,
      price: { requestMicroUsd: 0, inputTokenMicroUsd: 0.1, outputTokenMicroUsd: 0.4 },
    },
    minCapacity: 1, maxCapacity: 4, requestsPerTarget: 300,
    taskStartSeconds: 900, wakeSeconds: 1200,
    certificateArn: 'arn:aws:acm:us-east-1:111111111111:certificate/00000000-0000-0000-0000-000000000000', generationHostname: 'gpu.example.com',
    wafRequestsPer5Min: 6000, routerReservedConcurrency: 100, monthlyBudgetUsd: 1500, logRetentionDays: 90,
    protectBillingData: true,
  },
};
