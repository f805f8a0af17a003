/** The environment of the filter and gate Lambdas, read once into a typed config. */
import { z } from 'zod';

export interface SelectionConfig {
  synthesisBucket: string;
  /** SSE-KMS key for every object the selection writes. */
  synthesisKeyArn: string;
}

export function selectionConfigFromEnv(env: NodeJS.ProcessEnv = process.env): SelectionConfig {
  const e = z.object({ SYNTHESIS_BUCKET: z.string().min(3), SYNTHESIS_KEY_ARN: z.string().min(1) }).parse(env);
  return { synthesisBucket: e.SYNTHESIS_BUCKET, synthesisKeyArn: e.SYNTHESIS_KEY_ARN };
}
