/**
 * The model store: versioned, encrypted, private, TLS-only S3, with access logs in a bucket of their own. Versioned
 * buckets keep every overwritten object until told otherwise: old model versions and old logs expire.
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

export interface ModelStoreProps {
  /** Days to keep access logs (the stage's log retention). */
  logRetentionDays: number;
}

/** Days an overwritten or deleted model file stays recoverable. */
export const NONCURRENT_MODEL_DAYS = 30;

export class ModelStore extends Construct {
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
}
