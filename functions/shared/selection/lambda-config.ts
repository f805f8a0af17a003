/** The environment of the filter and gate Lambdas, read once into a typed config. */
import { z } from 'zod';
import { readEnv } from '../../../core/config/index.js';

export interface SelectionConfig {
  synthesisBucket: string;
  /** SSE-KMS key for every object the selection writes. */
  synthesisKeyArn: string;
}

export function selectionConfigFromEnv(env: NodeJS.ProcessEnv = process.env): SelectionConfig {
  return readEnv(env, { synthesisBucket: z.string().min(3), synthesisKeyArn: z.string().min(1) });
}
