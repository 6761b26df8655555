/** What differs between environments: region, GPU instance type, the model and its server, capacity, certificate. */
export interface GenerationImage {
  /** "vllm": the public vLLM OpenAI-compatible server; "edge-maas": our TypeScript generation server (infra/docker). */
  kind: 'vllm' | 'edge-maas';
  /** vLLM: the Hugging Face model id it serves; edge-maas: the model folder inside the image (GEN_MODEL_DIR). */
  model: string;
  /** vLLM: its image tag (vllm/vllm-openai:<tag>). */
  vllmTag?: string;
  /** Extra server arguments (vLLM) as given on its command line. */
  args?: string[];
}

export interface StageConfig {
  name: string;
  account?: string;
  region: string;
  /** A g5/g6 size: one NVIDIA GPU per task. */
  instanceType: string;
  image: GenerationImage;
  /** 0 lets the GPU service scale to zero when idle (see docs/DEPLOY.md for the cold start). */
  minCapacity: number;
  maxCapacity: number;
  /** Requests per target per minute before another task starts. */
  requestsPerTarget: number;
  /** ACM certificate for the load balancer's HTTPS listener. */
  certificateArn: string;
  /** The name the certificate covers; point it (CNAME) at the load balancer's DNS name (a stack output). */
  generationHostname: string;
  /** Days to keep logs. */
  logRetentionDays: number;
  /** Deletion protection on the keys and usage tables, kept when the stack is deleted. */
  protectBillingData: boolean;
}

export const STAGES: Record<string, StageConfig> = {
  dev: {
    name: 'dev', region: 'us-east-1', instanceType: 'g5.xlarge',
    image: { kind: 'edge-maas', model: '/models/stories260K' },
    minCapacity: 0, maxCapacity: 1, requestsPerTarget: 600,
    certificateArn: 'arn:aws:acm:us-east-1:111111111111:certificate/replace-with-yours', generationHostname: 'gpu.dev.example.com', logRetentionDays: 14,
    protectBillingData: false,
  },
  prod: {
    name: 'prod', region: 'us-east-1', instanceType: 'g6.xlarge',
    image: { kind: 'vllm', model: 'Qwen/Qwen2.5-1.5B-Instruct', vllmTag: 'v0.11.0', args: ['--max-model-len', '8192'] },
    minCapacity: 1, maxCapacity: 4, requestsPerTarget: 300,
    certificateArn: 'arn:aws:acm:us-east-1:111111111111:certificate/replace-with-yours', generationHostname: 'gpu.example.com', logRetentionDays: 90,
    protectBillingData: true,
  },
};

export function validateStage(config: StageConfig): StageConfig {
  if (!/^g[56]\.\w+$/.test(config.instanceType)) throw new Error(`${config.name}: instanceType must be a g5 or g6 size, not ${config.instanceType}`);
  if (!Number.isInteger(config.minCapacity) || config.minCapacity < 0) throw new Error(`${config.name}: minCapacity must be an integer ≥ 0`);
  if (!Number.isInteger(config.maxCapacity) || config.maxCapacity < Math.max(1, config.minCapacity)) throw new Error(`${config.name}: maxCapacity must be ≥ 1 and ≥ minCapacity`);
  if (!config.certificateArn.startsWith('arn:aws:acm:')) throw new Error(`${config.name}: certificateArn must be an ACM certificate ARN`);
  return config;
}
