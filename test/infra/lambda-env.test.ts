/**
 * infra sets each Lambda's environment and the handler's configFromEnv reads it; both take the
 * names from core/config/env-names.ts. This checks the two still meet on the synthesized stack.
 */
import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { ENV } from '../../core/config/index.js';
import { defaultTemplateJson } from './synth.js';

type Variables = Record<string, unknown>;
let lambdas: { name: string; variables: Variables }[];

beforeAll(async () => {
  const functions = Template.fromJSON(await defaultTemplateJson()).findResources('AWS::Lambda::Function');
  lambdas = Object.values(functions)
    .map((fn) => (fn.Properties?.Environment?.Variables ?? {}) as Variables)
    .filter((variables) => typeof variables[ENV.powertoolsServiceName] === 'string')
    .map((variables) => ({
      name: (variables[ENV.powertoolsServiceName] as string).replace(/^rewardds-/, ''),
      variables,
    }));
});

/** A CloudFormation reference (a bucket's Ref, a role's GetAtt) stands in as a plausible string. */
function resolved(variables: Variables): Record<string, string> {
  return Object.fromEntries(
    Object.entries(variables).map(([name, value]) => {
      if (typeof value === 'string') return [name, value];
      if (name.endsWith('_ARN')) return [name, 'arn:aws:kms:us-east-1:111122223333:key/stand-in'];
      if (name.endsWith('_URI')) return [name, 's3://stand-in/prefix/'];
      return [name, 'stand-in-bucket'];
    }),
  );
}

describe('the Lambdas environment', () => {
  it('covers the nine pipeline Lambdas', () => {
    expect(lambdas.map((l) => l.name).sort()).toEqual([
      'describe-job',
      'filter',
      'gate',
      'prepare-run',
      'record-failure',
      'release',
      'report',
      'start-job',
      'trigger',
    ]);
  });

  it('uses only names from core/config/env-names.ts', () => {
    const known = new Set<string>([...Object.values(ENV), 'NODE_OPTIONS']);
    for (const { name, variables } of lambdas)
      expect(
        Object.keys(variables).filter((v) => !known.has(v)),
        name,
      ).toEqual([]);
  });

  it('is what each handler configFromEnv reads', async () => {
    // A .ts path: Vite resolves an import with a variable part by globbing the real files.
    for (const { name, variables } of lambdas) {
      const handler = (await import(`../../functions/${name}/handler.ts`)) as {
        configFromEnv: (env: Record<string, string>) => unknown;
      };
      expect(() => handler.configFromEnv(resolved(variables)), name).not.toThrow();
    }
  });
});
