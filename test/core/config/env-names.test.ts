import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { ENV, readEnv } from '../../../core/config/index.js';

describe('readEnv', () => {
  it('returns each variable under its config field name', () => {
    const env = { SYNTHESIS_BUCKET: 'synth-bucket', PRIVATE_BUCKET: 'private-bucket', OTHER: 'x' };
    expect(readEnv(env, { synthesisBucket: z.string(), privateBucket: z.string() })).toEqual({
      synthesisBucket: 'synth-bucket',
      privateBucket: 'private-bucket',
    });
  });

  it('fails naming the missing or malformed variable, never echoing a value', () => {
    expect(() => readEnv({}, { stateMachineArn: z.string().min(1) })).toThrow(/STATE_MACHINE_ARN/);
    const bad = () =>
      readEnv({ MODELS_PREFIX_URI: 'secret-value' }, { modelsPrefixUri: z.string().startsWith('s3://') });
    expect(bad).toThrow(/MODELS_PREFIX_URI/);
    expect(bad).not.toThrow(/secret-value/);
  });

  it('names every variable once', () => {
    expect(new Set(Object.values(ENV)).size).toBe(Object.values(ENV).length);
  });
});
