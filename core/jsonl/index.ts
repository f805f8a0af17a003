/** Line-by-line JSONL over any byte stream, and the input error that names file, line and field. */
export * from './jsonl.js';
