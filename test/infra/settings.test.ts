import { describe, expect, it } from 'vitest';
import { breakGlassRoleName, resolveSettings } from '../../infra/settings.js';

const node = (context: Record<string, unknown>) => ({ tryGetContext: (key: string) => context[key] });
const MODELS = {
  generatorBaseModel: 's3://my-models/rewardds/qwen2.5-0.5b-instruct/',
  targetBaseModel: 's3://my-models/rewardds/qwen2.5-7b-instruct/',
};

describe('deployment settings', () => {
  it.each(['generatorBaseModel', 'targetBaseModel'])(
    'refuses to synthesize without %s, saying which -c flag is missing',
    (missing) => {
      const context: Record<string, unknown> = { ...MODELS };
      delete context[missing];
      expect(() => resolveSettings(node(context))).toThrow(
        new RegExp(`context ${missing}: required.*-c ${missing}=s3://`),
      );
    },
  );

  it('takes the two base models from the context and the models prefix as their common prefix', () => {
    const s = resolveSettings(node(MODELS));
    expect(s.generatorBaseModel).toBe(MODELS.generatorBaseModel);
    expect(s.targetBaseModel).toBe(MODELS.targetBaseModel);
    expect(s.modelsPrefix).toBe('s3://my-models/rewardds/');
  });

  it('lets explicit values (local mode, tests) stand in for the context', () => {
    const s = resolveSettings(node({}), MODELS);
    expect(s.generatorBaseModel).toBe(MODELS.generatorBaseModel);
  });

  it('checks the models bucket owner is an account id', () => {
    expect(resolveSettings(node({ ...MODELS, modelsBucketAccount: '444455556666' })).modelsBucketAccount).toBe(
      '444455556666',
    );
    expect(resolveSettings(node(MODELS)).modelsBucketAccount).toBeUndefined();
    expect(() => resolveSettings(node({ ...MODELS, modelsBucketAccount: 'someone' }))).toThrow(
      /modelsBucketAccount: must be a 12-digit account id/,
    );
  });
});

describe('the break-glass role', () => {
  it('is named after the stack unless the context names it', () => {
    expect(breakGlassRoleName({}, 'RewardDS')).toBe('RewardDS-private-break-glass');
    const s = resolveSettings(node({ ...MODELS, breakGlassRoleName: 'PrivateZoneBreakGlass' }));
    expect(breakGlassRoleName(s, 'RewardDS')).toBe('PrivateZoneBreakGlass');
  });

  it('refuses a name IAM would refuse, and a stack name too long to derive one from', () => {
    expect(() => resolveSettings(node({ ...MODELS, breakGlassRoleName: 'has space' }))).toThrow(
      /breakGlassRoleName: must be an IAM role name/,
    );
    expect(() => breakGlassRoleName({}, `S${'x'.repeat(60)}`)).toThrow(/breakGlassRoleName/);
  });
});
