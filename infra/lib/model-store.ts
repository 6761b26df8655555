/**
 * The model store: versioned, encrypted, private, TLS-only S3, with access logs in a bucket of their own. Versioned
 * buckets keep every overwritten object until told otherwise: old model versions and old logs expire.
 */
import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { acknowledge } from './nag-suppressions.js';

export interface ModelStoreProps {
  /** Days to keep access logs (the stage's log retention). */
  logRetentionDays: number;
}

/** What a consumer of the models needs: where they are, and the right to read them. */
export interface IModelStore {
  readonly bucket: s3.IBucket;
  grantRead(grantee: iam.IGrantable): iam.Grant;
}

/** Days an overwritten or deleted model file stays recoverable. */
export const NONCURRENT_MODEL_DAYS = 30;

export class ModelStore extends Construct implements IModelStore {
  readonly bucket: s3.Bucket;
  /** Server access logs of the model bucket, and the load balancer's access logs. */
  readonly accessLogs: s3.Bucket;

  constructor(scope: Construct, id: string, props: ModelStoreProps) {
    super(scope, id);
    const logs = (this.accessLogs = new s3.Bucket(this, 'AccessLogs', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      versioned: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
      lifecycleRules: [{ expiration: Duration.days(props.logRetentionDays), noncurrentVersionExpiration: Duration.days(1), abortIncompleteMultipartUploadAfter: Duration.days(7) }],
      removalPolicy: RemovalPolicy.RETAIN,
    }));
    this.bucket = new s3.Bucket(this, 'Models', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      versioned: true,
      serverAccessLogsBucket: logs,
      serverAccessLogsPrefix: 'models/',
      lifecycleRules: [{ noncurrentVersionExpiration: Duration.days(NONCURRENT_MODEL_DAYS), abortIncompleteMultipartUploadAfter: Duration.days(7) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }

  /**
   * Reading the models and nothing else: GetObject and ListBucket by name, where `bucket.grantRead` would grant
   * wildcard actions (s3:GetObject*, s3:List*).
   */
  grantRead(grantee: iam.IGrantable): iam.Grant {
    const objects = iam.Grant.addToPrincipal({ grantee, actions: ['s3:GetObject'], resourceArns: [this.bucket.arnForObjects('*')] });
    const listing = iam.Grant.addToPrincipal({ grantee, actions: ['s3:ListBucket'], resourceArns: [this.bucket.bucketArn] });
    if (Construct.isConstruct(grantee.grantPrincipal)) {
      const bucketId = Stack.of(this).getLogicalId(this.bucket.node.defaultChild as s3.CfnBucket);
      acknowledge(grantee.grantPrincipal, [[`AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/*]`, 'Object keys of the one model bucket: the reader reads the model folders in it.']]);
    }
    return objects.combine(listing);
  }
}
