import { describe, expect, it } from 'vitest';
import { namedError } from '../../../core/contract/index.js';

class PlantedFailure extends namedError('PlantedFailure') {}
class OtherFailure extends namedError('OtherFailure') {}

describe('namedError', () => {
  it("gives each class its own name, message, cause and instanceof, as the state machine's Catch needs", () => {
    const cause = new Error('root');
    const error = new PlantedFailure('job x failed', { cause });
    expect(error).toBeInstanceOf(PlantedFailure);
    expect(error).toBeInstanceOf(Error);
    expect(error).not.toBeInstanceOf(OtherFailure);
    expect(error.name).toBe('PlantedFailure');
    expect(error.message).toBe('job x failed');
    expect(error.cause).toBe(cause);
    expect(String(new OtherFailure('y'))).toBe('OtherFailure: y');
  });
});
