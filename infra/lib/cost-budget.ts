/**
 * An AWS Budget on the account's monthly cost: warns at 80 % of the stage's threshold spent and at 100 % forecast.
 * Budgets see the whole account (a filter on a cost-allocation tag would see nothing until that tag is activated
 * in the billing console), so two stages in one account each watch the same total.
 */
import * as budgets from 'aws-cdk-lib/aws-budgets';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';

export interface CostBudgetProps {
  name: string;
  monthlyUsd: number;
  topic: sns.ITopic;
}

export class CostBudget extends Construct {
  constructor(scope: Construct, id: string, props: CostBudgetProps) {
    super(scope, id);
    const warn = (notificationType: 'ACTUAL' | 'FORECASTED', threshold: number) => ({
      notification: { notificationType, comparisonOperator: 'GREATER_THAN', threshold, thresholdType: 'PERCENTAGE' },
      subscribers: [{ subscriptionType: 'SNS', address: props.topic.topicArn }],
    });
    new budgets.CfnBudget(this, 'Budget', {
      budget: { budgetName: props.name, budgetType: 'COST', timeUnit: 'MONTHLY', budgetLimit: { amount: props.monthlyUsd, unit: 'USD' } },
      notificationsWithSubscribers: [warn('ACTUAL', 80), warn('FORECASTED', 100)],
    });
  }
}
