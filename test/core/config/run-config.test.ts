import { describe, expect, it } from 'vitest';
import { parseRunConfig, resolveDelta, RunConfigError } from '../../../core/config/index.js';

describe('run config', () => {
  it('fills the method defaults for an empty document', () => {
    const config = parseRunConfig({});
    expect(config.privacy).toEqual({
      epsilon: 8,
      delta: 'auto',
      clipNorm: 1,
      split: 0.5,
      accountant: 'pld',
      audit: { canaries: 0 },
    });
    expect(config.generator).toMatchObject({
      epochs: 3,
      batchSize: 64,
      lora: { r: 16, alpha: 32, dropout: 0.05 },
      maxLength: 1024,
    });
    expect(config.synthesis).toMatchObject({
      candidates: 6,
      temperature: 1,
      topP: 0.7,
      maxNewTokens: 512,
      queryPrompt: 'instruction',
    });
    expect(config.synthesis.queries).toBeUndefined();
    expect(config.filter).toEqual({ method: 'reward', alpha: 0.5, keepFraction: 0.125 });
    expect(config.refinement.rounds).toBe(2);
    expect(config.compute).toMatchObject({ spot: false, warmPoolSeconds: 0 });
  });

  it('keeps defaults beside a partial override of a nested object', () => {
    const config = parseRunConfig({ generator: { lora: { r: 4 } } });
    expect(config.generator.lora).toEqual({ r: 4, alpha: 32, dropout: 0.05 });
    expect(config.reward.lora.r).toBe(16);
  });

  it('names every unknown key with its full path', () => {
    expect(() => parseRunConfig({ privacy: { epsilom: 3 }, extra: true }, 'config.json')).toThrow(
      /config\.json: .*privacy\.epsilom: unknown key.*extra: unknown key|config\.json: .*extra: unknown key.*privacy\.epsilom: unknown key/,
    );
  });

  it('names an out-of-range value', () => {
    try {
      parseRunConfig({ filter: { keepFraction: 1.5 } }, 'config.json');
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(RunConfigError);
      expect((error as RunConfigError).issues[0]!.path).toBe('filter.keepFraction');
    }
  });

  it('takes generator.lossOn response or prompt-and-response for G only', () => {
    expect(parseRunConfig({}).generator.lossOn).toBe('response');
    expect(parseRunConfig({ generator: { lossOn: 'prompt-and-response' } }).generator.lossOn).toBe(
      'prompt-and-response',
    );
    expect(() => parseRunConfig({ generator: { lossOn: 'prompt' } })).toThrow(/generator\.lossOn/);
    expect(() => parseRunConfig({ reward: { lossOn: 'response' } })).toThrow(/reward\.lossOn: unknown key/);
  });

  it('takes synthesis.queryPrompt instruction or pre-query, and nothing else', () => {
    expect(parseRunConfig({ synthesis: { queryPrompt: 'pre-query' } }).synthesis.queryPrompt).toBe('pre-query');
    expect(() => parseRunConfig({ synthesis: { queryPrompt: 'magpie' } })).toThrow(/synthesis\.queryPrompt/);
  });

  it('takes privacy.accountant rdp or pld, and nothing else', () => {
    expect(parseRunConfig({ privacy: { accountant: 'rdp' } }).privacy.accountant).toBe('rdp');
    expect(() => parseRunConfig({ privacy: { accountant: 'moments' } })).toThrow(/privacy\.accountant/);
  });

  it('refuses a base model that is not an S3 URI', () => {
    expect(() => parseRunConfig({ target: { baseModel: 'Qwen/Qwen2.5-7B' } })).toThrow(/target\.baseModel/);
  });

  it('takes an answer pattern with exactly one capturing group, and refuses others by path', () => {
    expect(parseRunConfig({}).evaluation.answerPattern).toBeUndefined();
    const pattern = 'berth ([A-Z]-\\d{2})';
    expect(parseRunConfig({ evaluation: { answerPattern: pattern } }).evaluation.answerPattern).toBe(pattern);
    expect(parseRunConfig({ evaluation: { answerPattern: '(?:dose) (\\d+)' } }).evaluation.answerPattern).toBeDefined();
    for (const bad of ['berth [A-Z]', '(a)(b)', '(', '']) {
      expect(() => parseRunConfig({ evaluation: { answerPattern: bad } })).toThrow(/evaluation\.answerPattern/);
    }
  });

  it('resolves δ auto as min(1e-5, 1/(10·N))', () => {
    expect(resolveDelta('auto', 3364)).toBe(1e-5);
    expect(resolveDelta('auto', 50)).toBe(1e-5);
    expect(resolveDelta('auto', 1_000_000)).toBe(1e-7);
    expect(resolveDelta(1e-7, 50)).toBe(1e-7);
  });
});
