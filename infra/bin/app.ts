/**
 * The CDK app: one stage per environment (infra/lib/config.ts), each with the EdgeMaas stack, and cdk-nag's
 * AwsSolutions checks on everything. `npm run synth:aws -- <stage>` synthesizes offline, `npm run deploy:aws --
 * <stage>` deploys (infra/scripts/cdk-stage.ts: STAGE=<stage> and the stack pattern "<stage>/*").
 */
import { App, Stage, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { STAGES } from '../lib/config.js';
import { validateStage } from '../lib/validate-stage.js';
import { EdgeMaasStack } from '../lib/edge-maas-stack.js';

export function buildApp(app = new App(), stages = Object.keys(STAGES)): App {
  for (const name of stages) {
    const base = STAGES[name];
    if (!base) throw new Error(`unknown stage "${name}"; known: ${Object.keys(STAGES).join(', ')}`);
    // `-c minCapacity=0` for a first deploy: no task starts before its model is in the bucket the deploy creates.
    const minCapacity = app.node.tryGetContext('minCapacity') as string | number | undefined;
    const config = validateStage({
      ...base, account: process.env.CDK_DEFAULT_ACCOUNT ?? base.account, ...(minCapacity === undefined ? {} : { minCapacity: Number(minCapacity) }),
    });
    const stage = new Stage(app, name, { env: { account: config.account, region: config.region } });
    new EdgeMaasStack(stage, 'EdgeMaas', { config });
  }
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
  return app;
}

if (process.argv[1]?.endsWith('app.ts')) {
  buildApp(new App(), process.env.STAGE ? [process.env.STAGE] : undefined).synth();
}
