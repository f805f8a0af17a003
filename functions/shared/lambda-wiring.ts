/**
 * The few lines every handler file shares: Powertools per function, metrics flushed after
 * each invocation (failed ones too), and a handler wired on its first call so that importing
 * a handler module never reads the environment (local mode imports them all).
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';

/** Logger and metrics of one function, named `rewardds-<name>` in the logs. */
export function powertools(name: string): { logger: Logger; metrics: Metrics } {
  return {
    logger: new Logger({ serviceName: `rewardds-${name}` }),
    metrics: new Metrics({ namespace: 'RewardDS', serviceName: name }),
  };
}

/** `createHandler` for a handler whose deps may carry metrics: publishes them after every call. */
export function flushingMetrics<D extends { metrics?: { publishStoredMetrics(): unknown } }, O>(
  work: (event: unknown, deps: D) => Promise<O>,
): (deps: D) => (event: unknown) => Promise<O> {
  return (deps) => async (event) => {
    try {
      return await work(event, deps);
    } finally {
      deps.metrics?.publishStoredMetrics();
    }
  };
}

/** The exported `handler`: builds the real one on the first invocation. */
export function wireOnFirstCall<O>(wire: () => (event: unknown) => Promise<O>): (event: unknown) => Promise<O> {
  let wired: ((event: unknown) => Promise<O>) | undefined;
  return (event) => {
    wired ??= wire();
    return wired(event);
  };
}
