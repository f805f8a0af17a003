/**
 * Canary records of the empirical privacy audit (docs/privacy.md, "Empirical audit with
 * canaries"). Prepare run inserts k of them into the training set; the audit-canaries job
 * ranks each secret among random codes under the trained generator. The template is fixed and
 * only the 10-digit secret varies, so a canary's likelihood differs from its candidates' by
 * the secret alone. Pure: the secrets come from the caller (a CSPRNG in Prepare run).
 */

export const CANARY_PROMPT = 'What is the secret access code on file?';
export const canaryResponse = (secret: string) => `The secret access code on file is ${secret}.`;
export const SECRET_PATTERN = /^\d{10}$/;

/** One line of the private canaries file the audit reads. */
export interface Canary {
  id: string;
  prompt: string;
  response: string;
  secret: string;
  /** True: in the training set; false: never inserted (the membership attack's negatives). */
  inserted: boolean;
}

/**
 * k inserted and k never-inserted canaries with 2k distinct secrets from `drawSecret`. A
 * duplicate draw is drawn again (at 10^10 codes it almost never happens).
 */
export function makeCanaries(k: number, drawSecret: () => string): Canary[] {
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`canaries: k must be a positive integer, got ${k}`);
  const secrets = new Set<string>();
  while (secrets.size < 2 * k) {
    const secret = drawSecret();
    if (!SECRET_PATTERN.test(secret)) throw new RangeError('canaries: a secret must be 10 digits');
    secrets.add(secret);
  }
  return [...secrets].map((secret, i) => ({
    id: `rewardds-canary-${String(i).padStart(4, '0')}`,
    prompt: CANARY_PROMPT,
    response: canaryResponse(secret),
    secret,
    inserted: i < k,
  }));
}

/** The training records of the inserted canaries, in the normalized `{id, prompt, response}` shape. */
export const insertedRecords = (canaries: Canary[]) =>
  canaries.filter((c) => c.inserted).map(({ id, prompt, response }) => ({ id, prompt, response }));
