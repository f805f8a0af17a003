import { App, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { AwsSolutionsChecks, HIPAASecurityChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { synthStack } from './synth.js';

const packs = (app: App) => [new AwsSolutionsChecks(app), new HIPAASecurityChecks(app)];

describe('cdk-nag', () => {
  it('reports no unacknowledged AwsSolutions or HIPAA Security finding on the RewardDS stack', () => {
    const { app } = synthStack({ plugins: packs });
    let error: unknown;
    try {
      app.synth();
    } catch (e) {
      error = e;
    }
    // Show the findings themselves when this fails, not just "threw".
    expect(error === undefined ? '' : String((error as Error).message).slice(0, 4000)).toBe('');
  });

  it('does fail on a wildcard nobody acknowledged (the packs are really running)', () => {
    const app = new App();
    Validations.of(app).addPlugins(...packs(app));
    const stack = new Stack(app, 'Control', { env: { account: '111122223333', region: 'us-east-1' } });
    const role = new iam.Role(stack, 'Role', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: ['arn:aws:s3:::some-bucket/*'] }),
    );
    expect(() => app.synth()).toThrow(/AwsSolutions-IAM5\[Resource::arn:aws:s3:::some-bucket\/\*\]/);
  });
});
