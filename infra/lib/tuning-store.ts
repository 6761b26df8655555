/**
 * Fine-tuning on AWS: the tuning table (functions/tuning/dynamo/tuning-table.ts: on demand, point-in-time
 * recovery, encrypted, protected where the stage keeps its data), the bucket of uploaded and result files
 * (encrypted, private, TLS-only, access-logged) and the runner function that trains queued jobs: the router's
 * bundle with functions/lambda/tuning-runner.ts, 3008 MB, 15 minutes, reserved concurrency 1 so that one runner is
 * the deployment's one queue. The router queues jobs and invokes the runner asynchronously (grantRouter).
 */
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ArnFormat, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { TUNING_ENV, TUNING_TABLE } from '../../functions/tuning/dynamo/tuning-table.js';
import { acknowledge } from './nag-suppressions.js';
import { routerBundle } from './router-function.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface TuningStoreProps {
  /** Keep the table and the files (deletion protection, retained on stack deletion). */
  protectData: boolean;
  /** Where the bucket's server access logs go (the model store's log bucket). */
  accessLogs: s3.IBucket;
  logRetentionDays: number;
  /** The billing tables' variables, so that the runner meters training like the router meters requests. */
  billingEnvironment: Record<string, string>;
}

export const RUNNER_MEMORY_MB = 3008;
export const RUNNER_TIMEOUT = Duration.minutes(15);

const text = (name: string): dynamodb.Attribute => ({ name, type: dynamodb.AttributeType.STRING });

export class TuningStore extends Construct {
  readonly table: dynamodb.TableV2;
  readonly bucket: s3.Bucket;
  readonly runner: nodejs.NodejsFunction;
  /** TUNING_TABLE, TUNING_BUCKET and TUNING_RUNNER_FUNCTION, for the router. */
  readonly environment: Record<string, string>;

  constructor(scope: Construct, id: string, props: TuningStoreProps) {
    super(scope, id);
    const { partitionKey, sortKey, localIndex, statusIndex } = TUNING_TABLE;
    this.table = new dynamodb.TableV2(this, 'Table', {
      partitionKey: text(partitionKey),
      sortKey: text(sortKey),
      localSecondaryIndexes: [{ indexName: localIndex.name, sortKey: text(localIndex.sortKey) }],
      globalSecondaryIndexes: [{ indexName: statusIndex.name, partitionKey: text(statusIndex.partitionKey), sortKey: text(statusIndex.sortKey) }],
      billing: dynamodb.Billing.onDemand(),
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryptionV2.awsManagedKey(),
      deletionProtection: props.protectData,
      removalPolicy: props.protectData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    this.bucket = new s3.Bucket(this, 'Files', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      // Versioned so a mistaken delete can be undone for a day; then a deleted file's bytes are gone.
      versioned: true,
      serverAccessLogsBucket: props.accessLogs,
      serverAccessLogsPrefix: 'tuning-files/',
      lifecycleRules: [{ noncurrentVersionExpiration: Duration.days(1), abortIncompleteMultipartUploadAfter: Duration.days(7) }],
      removalPolicy: props.protectData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });

    const logGroup = new logs.LogGroup(this, 'RunnerLogs', { retention: props.logRetentionDays, removalPolicy: RemovalPolicy.DESTROY });
    const role = new iam.Role(this, 'RunnerRole', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    role.addToPolicy(new iam.PolicyStatement({ actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [`${logGroup.logGroupArn}:*`] }));
    // A name known before the function exists, so its role may invoke it (to carry on) without a dependency cycle.
    const functionName = `${Stack.of(this).stackName}-tuning-runner`;
    this.runner = new nodejs.NodejsFunction(this, 'Runner', {
      functionName,
      entry: path.join(repoRoot, 'functions/lambda/tuning-runner.ts'),
      handler: 'handler',
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: RUNNER_MEMORY_MB,
      timeout: RUNNER_TIMEOUT,
      reservedConcurrentExecutions: 1,
      logGroup,
      role,
      environment: {
        [TUNING_ENV.table]: this.table.tableName,
        [TUNING_ENV.bucket]: this.bucket.bucketName,
        [TUNING_ENV.runner]: functionName,
        ...props.billingEnvironment,
        MODELS_DIR: '/var/task/models',
        NODE_OPTIONS: '--enable-source-maps',
      },
      ...routerBundle(),
    });
    this.grantReadWrite(role);
    role.addToPolicy(new iam.PolicyStatement({
      actions: ['lambda:InvokeFunction'], resources: [Stack.of(this).formatArn({ service: 'lambda', resource: 'function', resourceName: functionName, arnFormat: ArnFormat.COLON_RESOURCE_NAME })],
    }));
    const logsId = Stack.of(this).getLogicalId(logGroup.node.defaultChild as logs.CfnLogGroup);
    acknowledge(role, [[`AwsSolutions-IAM5[Resource::<${logsId}.Arn>:*]`, 'The log streams of its own log group.']]);
    this.environment = { [TUNING_ENV.table]: this.table.tableName, [TUNING_ENV.bucket]: this.bucket.bucketName, [TUNING_ENV.runner]: this.runner.functionName };
  }

  /** Item reads, writes, deletes and queries on the table and its two indexes; the files' objects. No wildcard action. */
  grantReadWrite(grantee: iam.IGrantable): iam.Grant {
    const { localIndex, statusIndex } = TUNING_TABLE;
    const table = iam.Grant.addToPrincipal({
      grantee,
      actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:Query'],
      resourceArns: [this.table.tableArn, `${this.table.tableArn}/index/${localIndex.name}`, `${this.table.tableArn}/index/${statusIndex.name}`],
    });
    const objects = iam.Grant.addToPrincipal({ grantee, actions: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'], resourceArns: [this.bucket.arnForObjects('*')] });
    if (Construct.isConstruct(grantee.grantPrincipal)) {
      const bucketId = Stack.of(this).getLogicalId(this.bucket.node.defaultChild as s3.CfnBucket);
      acknowledge(grantee.grantPrincipal, [[`AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/*]`, 'Object keys of the one fine-tuning bucket: each tenant\'s files are keyed <tenant>/<file id> in it.']]);
    }
    return table.combine(objects);
  }

  /** The router: the table and files, and starting the runner. */
  grantRouter(grantee: iam.IGrantable): iam.Grant {
    const invoke = this.runner.grantInvoke(grantee);
    if (Construct.isConstruct(grantee.grantPrincipal)) {
      const runnerId = Stack.of(this).getLogicalId(this.runner.node.defaultChild as lambda.CfnFunction);
      acknowledge(grantee.grantPrincipal, [[`AwsSolutions-IAM5[Resource::<${runnerId}.Arn>:*]`, 'The versions of the one runner function, as grantInvoke names them.']]);
    }
    return this.grantReadWrite(grantee).combine(invoke);
  }
}
