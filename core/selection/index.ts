/**
 * Reward-guided selection without I/O: the filter, the refinement gate, ranking, ROUGE-L,
 * the record checks and the sink interface the adapters implement (docs/selection.md).
 */
export * from './filter.js';
export * from './gate.js';
export * from './rank.js';
export * from './records.js';
export * from './rouge.js';
export * from './seeded-random.js';
export * from './sinks.js';
export * from './stats.js';
