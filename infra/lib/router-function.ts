/**
 * The regional router: the same Hono app in Lambda (Node.js 24, arm64) behind a Function URL in RESPONSE_STREAM
 * mode, pointed at the GPU service. The bundle carries the models and onnxruntime-web's wasm; its role can write
 * its own logs, and whatever the stack grants it: the GPU service's upstream key (GpuEndpoint.grantInvoke), the keys
 * and usage tables (BillingTables.grantReadWrite).
 * API keys are required (EDGE_MAAS_AUTH=keys); they are managed with `npm run keys` against the tables, so no admin
 * token is exposed. Its timeout outlasts the router's own (stream-timeouts.ts), and reserved concurrency caps what
 * a flood of requests to the public Function URL can cost. EDGE_MAAS_REGION is its jurisdiction (jurisdiction.ts):
 * keys pinned to it are classified in the function; keys pinned elsewhere are refused in-process work.
 */
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { acknowledge } from './nag-suppressions.js';
import { REGISTRY_OVERLAY_ENV, type RegistryOverlay } from './registry-overlay.js';
import { ROUTER_LAMBDA_TIMEOUT } from './stream-timeouts.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * 1,024 MB, not 1,769 (one full vCPU): a classification's own CPU costs the same GB-s at any size up to 1,769 MB
 * (less memory, a smaller CPU share, longer by as much), but its waits on DynamoDB are billed at the configured
 * memory, so less memory is cheaper (`npm run bench:cost`: CPU + round trips x 5 ms, bench/RESULTS.md). The router
 * held 397 MiB RSS after 20 classifications of 64 texts on onnxruntime-web (with every model of the checkout, more
 * than the bundle carries): 1,024 MB leaves it 2.5x headroom, where 512 MB would leave little and double its CPU time.
 */
export const ROUTER_MEMORY_MB = 1024;

export interface RouterFunctionProps {
  /** https://<name covered by the GPU service's certificate>, pointing at its load balancer. */
  generationUrl: string;
  /** The stage's GPU models as the registry should list them. */
  registryOverlay: RegistryOverlay;
  /**
   * The key the GPU service requires (sent as `Authorization: Bearer`): the function gets its ARN; reading it is
   * the stack's grant (GpuEndpoint.grantInvoke).
   */
  upstreamKey: secretsmanager.ISecret;
  reservedConcurrency?: number;
  logRetentionDays: number;
  /** The jurisdiction the function runs in (jurisdictionOf its AWS region); none: pinned keys get no in-process work. */
  jurisdiction?: string;
}

/**
 * How the router's bundle is built: the app in ESM with the models and onnxruntime-web's wasm beside it. The
 * fine-tuning runner (tuning-store.ts) is the same bundle with another entry.
 */
export function routerBundle(): Pick<nodejs.NodejsFunctionProps, 'bundling' | 'projectRoot' | 'depsLockFilePath'> {
  return {
    bundling: {
      format: nodejs.OutputFormat.ESM,
      target: 'node24',
      mainFields: ['module', 'main'],
      banner: "import { createRequire as edgeMaasCreateRequire } from 'module'; const require = edgeMaasCreateRequire(import.meta.url);",
      externalModules: ['onnxruntime-node', 'better-sqlite3'],
      commandHooks: {
        beforeBundling: () => [],
        beforeInstall: () => [],
        afterBundling: (inputDir: string, outputDir: string) => [
          `cp -r ${inputDir}/models ${outputDir}/models`,
          `rm -rf ${outputDir}/models/recipes ${outputDir}/models/tools ${outputDir}/models/sst2-bert/onnx/model.onnx`,
          `cp ${inputDir}/node_modules/onnxruntime-web/dist/ort-wasm-simd-threaded.wasm ${inputDir}/node_modules/onnxruntime-web/dist/ort-wasm-simd-threaded.mjs ${outputDir}/`,
        ],
      },
    },
    projectRoot: repoRoot,
    depsLockFilePath: path.join(repoRoot, 'package-lock.json'),
  };
}

export class RouterFunction extends Construct {
  readonly function: nodejs.NodejsFunction;
  readonly url: lambda.FunctionUrl;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: RouterFunctionProps) {
    super(scope, id);
    const logGroup = (this.logGroup = new logs.LogGroup(this, 'Logs', { retention: props.logRetentionDays, removalPolicy: RemovalPolicy.DESTROY }));
    // Its own log group and nothing else (not AWSLambdaBasicExecutionRole, which reaches every log group).
    const role = new iam.Role(this, 'Role', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    role.addToPolicy(new iam.PolicyStatement({ actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [`${logGroup.logGroupArn}:*`] }));
    this.function = new nodejs.NodejsFunction(this, 'Router', {
      entry: path.join(repoRoot, 'functions/lambda/stream-handler.ts'),
      handler: 'handler',
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: ROUTER_MEMORY_MB,
      timeout: ROUTER_LAMBDA_TIMEOUT,
      reservedConcurrentExecutions: props.reservedConcurrency,
      logGroup,
      // JSON logs with Lambda's own lines at WARN: no START/END/REPORT per invocation (about 260 bytes each), while
      // its errors and timeouts, and everything the router writes (warnings and errors only), are still logged.
      loggingFormat: lambda.LoggingFormat.JSON,
      systemLogLevelV2: lambda.SystemLogLevel.WARN,
      applicationLogLevelV2: lambda.ApplicationLogLevel.INFO,
      role,
      // Serves the key to the function on localhost, cached, so the bundle needs no Secrets Manager SDK.
      paramsAndSecrets: lambda.ParamsAndSecretsLayerVersion.fromVersion(lambda.ParamsAndSecretsVersions.V1_0_103),
      environment: {
        GENERATION_UPSTREAM_URL: props.generationUrl,
        [REGISTRY_OVERLAY_ENV]: JSON.stringify(props.registryOverlay),
        UPSTREAM_KEY_SECRET_ARN: props.upstreamKey.secretArn,
        EDGE_MAAS_AUTH: 'keys',
        MODELS_DIR: '/var/task/models',
        NODE_OPTIONS: '--enable-source-maps',
        ...(props.jurisdiction ? { EDGE_MAAS_REGION: props.jurisdiction } : {}),
      },
      ...routerBundle(),
    });
    acknowledge(role, [['AwsSolutions-IAM5[Resource::<RouterLogs4973BD4D.Arn>:*]', 'The log streams of its own log group.']]);
    this.url = this.function.addFunctionUrl({ authType: lambda.FunctionUrlAuthType.NONE, invokeMode: lambda.InvokeMode.RESPONSE_STREAM });
  }
}
