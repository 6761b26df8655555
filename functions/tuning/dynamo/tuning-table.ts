/**
 * The DynamoDB layout of fine-tuning on AWS, shared by the CDK stack (which creates the table) and the tests (which
 * create it on a local DynamoDB). One on-demand table, every item keyed by `pk` (partition) and `sk` (sort):
 *
 * | pk                 | sk              | item                                                          |
 * | ------------------ | --------------- | ------------------------------------------------------------- |
 * | `files#<tenant>`   | `<file id>`     | a stored file (its bytes are in the BlobStore)                |
 * | `files#<tenant>`   | `#usage`        | the tenant's stored bytes (`usedBytes`), the quota's counter |
 * | `jobs#<tenant>`    | `<job id>`      | a job                                                         |
 * | `job#<job id>`     | `#owner`        | the job's tenant: updateJob is given only the id              |
 * | `job#<job id>`     | `#seq`          | the job's last event seq (`seq`), an atomic counter          |
 * | `job#<job id>`     | `e#<seq, 10 digits>` | an event                                                 |
 * | `models#<tenant>`  | `<model name>`  | a tenant model with its head                                  |
 *
 * Listings newest first read the local index `byCreated` (sort key `created` = `<created_at, 13 digits>#<id>`,
 * set on files, jobs and models only), so they are strongly consistent like the item reads. The global index
 * `byStatus` (partition `status`, set on jobs only) is what a runner reads to find queued jobs.
 */
export const TUNING_TABLE = {
  partitionKey: 'pk',
  sortKey: 'sk',
  localIndex: { name: 'byCreated', sortKey: 'created' },
  statusIndex: { name: 'byStatus', partitionKey: 'status', sortKey: 'created' },
} as const;

/** The environment the Lambda functions read the table and bucket from (set by the CDK stack). */
export const TUNING_ENV = { table: 'TUNING_TABLE', bucket: 'TUNING_BUCKET', runner: 'TUNING_RUNNER_FUNCTION' } as const;
