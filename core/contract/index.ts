/** What the state machine, its Lambdas and local mode agree on: events and state, S3 keys, run names. */
export * from './events.js';
export * from './failure-reasons.js';
export * from './layout.js';
export * from './run-name.js';
export * from './named-error.js';
