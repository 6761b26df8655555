/**
 * Fine-tuning's AWS storage on 127.0.0.1 for tests: the tuning table (tuning-table.ts) on dynalite and a bucket on
 * s3rver (a real S3-compatible HTTP server, files in a temporary folder), reached by the official AWS SDK clients
 * exactly as the Lambda functions reach DynamoDB and S3.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateTableCommand, DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import S3rver from 's3rver';
import { TUNING_TABLE } from '../../functions/tuning/dynamo/tuning-table.js';
import { S3Client } from '@aws-sdk/client-s3';
import { startLocalDynamo, type LocalDynamo } from '../billing/local-dynamodb.js';

export interface LocalAwsTuning {
  dynamo: LocalDynamo;
  table: string;
  s3Endpoint: string;
  bucket: string;
  s3: S3Client;
  close(): Promise<void>;
}

export const S3RVER_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

export async function createTuningTable(client: DynamoDBDocumentClient, name: string): Promise<void> {
  const { partitionKey, sortKey, localIndex, statusIndex } = TUNING_TABLE;
  await client.send(new CreateTableCommand({
    TableName: name,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [partitionKey, sortKey, localIndex.sortKey, statusIndex.partitionKey].map((AttributeName) => ({ AttributeName, AttributeType: 'S' as const })),
    KeySchema: [{ AttributeName: partitionKey, KeyType: 'HASH' }, { AttributeName: sortKey, KeyType: 'RANGE' }],
    LocalSecondaryIndexes: [{
      IndexName: localIndex.name, Projection: { ProjectionType: 'ALL' },
      KeySchema: [{ AttributeName: partitionKey, KeyType: 'HASH' }, { AttributeName: localIndex.sortKey, KeyType: 'RANGE' }],
    }],
    GlobalSecondaryIndexes: [{
      IndexName: statusIndex.name, Projection: { ProjectionType: 'ALL' },
      KeySchema: [{ AttributeName: statusIndex.partitionKey, KeyType: 'HASH' }, { AttributeName: statusIndex.sortKey, KeyType: 'RANGE' }],
    }],
  }));
  for (let i = 0; i < 100; i++) {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: name }));
    if (Table?.TableStatus === 'ACTIVE') return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`table ${name} did not become active`);
}

export async function startLocalAwsTuning(): Promise<LocalAwsTuning> {
  const dynamo = await startLocalDynamo();
  const table = `tuning-${process.pid}`;
  await createTuningTable(dynamo.client, table);
  const directory = await mkdtemp(join(tmpdir(), 's3rver-'));
  const bucket = 'tuning-files';
  const s3rver = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory, configureBuckets: [{ name: bucket }] });
  const { port } = await s3rver.run();
  const s3Endpoint = `http://127.0.0.1:${port}`;
  // s3rver checks signatures made with its one key pair; the Lambda functions sign with their role's.
  const s3 = new S3Client({ endpoint: s3Endpoint, forcePathStyle: true, region: 'us-east-1', credentials: S3RVER_CREDENTIALS });
  return {
    dynamo, table, s3Endpoint, bucket, s3,
    close: async () => {
      s3.destroy();
      await s3rver.close();
      await dynamo.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}
