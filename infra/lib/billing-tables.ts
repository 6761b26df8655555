/**
 * Keys, rate limits and usage for the AWS router: the two DynamoDB tables of functions/billing/dynamo/schema.ts,
 * on demand (nothing to pay while idle, no capacity to plan), with point-in-time recovery, encryption at rest, TTL
 * for idempotency claims and rate-limit windows, and deletion protection where the stage keeps its data.
 */
import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { BILLING_TABLE, TABLE_ENV, USAGE_TABLE, type TableSchema } from '../../functions/billing/dynamo/schema.js';

export interface BillingTablesProps {
  /** Keep the tables (deletion protection, retained on stack deletion): production's billing records. */
  protectData: boolean;
}

const attribute = (name: string, type: 'S' | 'N' = 'S'): dynamodb.Attribute => ({
  name, type: type === 'S' ? dynamodb.AttributeType.STRING : dynamodb.AttributeType.NUMBER,
});

export class BillingTables extends Construct {
  readonly billing: dynamodb.TableV2;
  readonly usage: dynamodb.TableV2;
  /** The variables the billing store finds its tables by (TABLE_ENV), for the function that uses them. */
  readonly environment: Record<string, string>;

  constructor(scope: Construct, id: string, props: BillingTablesProps) {
    super(scope, id);
    const table = (name: string, schema: TableSchema) => new dynamodb.TableV2(this, name, {
      partitionKey: attribute(schema.partitionKey),
      ...(schema.sortKey ? { sortKey: attribute(schema.sortKey) } : {}),
      billing: dynamodb.Billing.onDemand(),
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryptionV2.awsManagedKey(),
      ...(schema.ttlAttribute ? { timeToLiveAttribute: schema.ttlAttribute } : {}),
      globalSecondaryIndexes: schema.indexes.map((index) => ({
        indexName: index.name,
        partitionKey: attribute(index.partitionKey),
        ...(index.sortKey ? { sortKey: attribute(index.sortKey.name, index.sortKey.type) } : {}),
      })),
      deletionProtection: props.protectData,
      removalPolicy: props.protectData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    this.billing = table('Billing', BILLING_TABLE);
    this.usage = table('Usage', USAGE_TABLE);
    this.environment = { [TABLE_ENV.billing]: this.billing.tableName, [TABLE_ENV.usage]: this.usage.tableName };
  }

  /**
   * What the router does and nothing more: item reads and writes and queries, on these tables and their named
   * indexes (`grantReadWriteData` would add batch, scan and describe actions, and every index with `index/*`).
   */
  grantReadWrite(grantee: iam.IGrantable): iam.Grant {
    const indexArns = (table: dynamodb.TableV2, schema: TableSchema) => schema.indexes.map((index) => `${table.tableArn}/index/${index.name}`);
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:Query'],
      resourceArns: [this.billing.tableArn, ...indexArns(this.billing, BILLING_TABLE), this.usage.tableArn, ...indexArns(this.usage, USAGE_TABLE)],
    });
  }
}
