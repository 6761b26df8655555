/** Creates the billing tables from functions/billing/dynamo/schema.ts on a local DynamoDB (on AWS the CDK stack creates them). */
import { CreateTableCommand, DescribeTableCommand, ResourceInUseException, type AttributeDefinition } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { BILLING_TABLE, USAGE_TABLE, type BillingTableNames, type TableSchema } from '../../functions/billing/dynamo/schema.js';

async function createTable(client: DynamoDBDocumentClient, name: string, schema: TableSchema): Promise<void> {
  const attributes = new Map<string, AttributeDefinition['AttributeType']>([[schema.partitionKey, 'S']]);
  if (schema.sortKey) attributes.set(schema.sortKey, 'S');
  for (const index of schema.indexes) {
    attributes.set(index.partitionKey, 'S');
    if (index.sortKey) attributes.set(index.sortKey.name, index.sortKey.type);
  }
  try {
    await client.send(new CreateTableCommand({
      TableName: name,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [...attributes].map(([AttributeName, AttributeType]) => ({ AttributeName, AttributeType })),
      KeySchema: [{ AttributeName: schema.partitionKey, KeyType: 'HASH' }, ...(schema.sortKey ? [{ AttributeName: schema.sortKey, KeyType: 'RANGE' as const }] : [])],
      GlobalSecondaryIndexes: schema.indexes.map((index) => ({
        IndexName: index.name,
        KeySchema: [{ AttributeName: index.partitionKey, KeyType: 'HASH' }, ...(index.sortKey ? [{ AttributeName: index.sortKey.name, KeyType: 'RANGE' as const }] : [])],
        Projection: { ProjectionType: 'ALL' },
      })),
    }));
  } catch (error) {
    if (!(error instanceof ResourceInUseException)) throw error;
  }
  for (let i = 0; i < 100; i++) {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: name }));
    if (Table?.TableStatus === 'ACTIVE') return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`table ${name} did not become active`);
}

export async function createBillingTables(client: DynamoDBDocumentClient, tables: BillingTableNames): Promise<void> {
  await createTable(client, tables.billing, BILLING_TABLE);
  await createTable(client, tables.usage, USAGE_TABLE);
}
