/**
 * `npx cdk synth|deploy`: the RewardDS app. Settings come from context (`-c key=value`,
 * see docs/operations.md); the account and region from the CLI's environment.
 */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, HIPAASecurityChecks } from 'cdk-nag';
import { RewardDsStack } from './rewardds-stack.js';

const app = new App();
// `cdk synth -c nag=true`: run the AwsSolutions and HIPAA packs; any unacknowledged finding fails synth.
const nag = app.node.tryGetContext('nag');
if (nag === true || nag === 'true')
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new HIPAASecurityChecks(app));
const stackName = (app.node.tryGetContext('rewardds:stackName') as string | undefined) ?? 'RewardDS';
new RewardDsStack(app, stackName, {
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
  description: 'RewardDS: differentially private synthetic data and target fine-tuning on Step Functions and SageMaker',
});
app.synth();
