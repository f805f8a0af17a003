/** The run config a user writes, each job's slice of it, and the names of the Lambdas' environment. */
export * from './run-config.js';
export * from './stage-config.js';
export * from './run-config-docs.js';
export * from './env-names.js';
