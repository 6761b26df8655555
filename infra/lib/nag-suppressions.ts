/** cdk-nag AwsSolutions findings this design accepts, each acknowledged where it arises, with its reason. */
import { Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

export function acknowledge(scope: IConstruct, findings: [rule: string, reason: string][]): void {
  for (const [rule, reason] of findings) Validations.of(scope).acknowledge({ id: `AwsSolutions::${rule}`, reason });
}
