/**
 * ROUGE-L (Lin 2004, §3.1): the F-measure of the longest common subsequence of two token
 * sequences, with β = 1 as in Google's rouge-score package.
 *
 * Tokenization: lower-case, then every maximal run of Unicode letters or digits is a
 * token; everything else (spaces, punctuation, symbols) separates tokens. This matches
 * rouge-score's default tokenizer on English text but keeps non-ASCII words instead of
 * dropping them, since the domain data are not all ASCII. No stemming.
 */

const TOKEN = /[\p{L}\p{N}]+/gu;

export function tokenize(text: string): string[] {
  return text.toLowerCase().match(TOKEN) ?? [];
}

/** Length of the longest common subsequence, in O(|a|·|b|) time and O(min) memory. */
export function lcsLength(a: readonly string[], b: readonly string[]): number {
  // Iterate over the longer sequence so the DP row is the shorter one.
  const [outer, inner] = a.length >= b.length ? [a, b] : [b, a];
  if (inner.length === 0) return 0;
  let previous = new Int32Array(inner.length + 1);
  let current = new Int32Array(inner.length + 1);
  for (let i = 0; i < outer.length; i += 1) {
    const token = outer[i];
    for (let j = 1; j <= inner.length; j += 1) {
      current[j] = token === inner[j - 1] ? previous[j - 1]! + 1 : Math.max(previous[j]!, current[j - 1]!);
    }
    [previous, current] = [current, previous];
  }
  return previous[inner.length]!;
}

/** ROUGE-L F1 of a candidate against one reference; 0 when either is empty. */
export function rougeL(candidate: readonly string[], reference: readonly string[]): number {
  if (candidate.length === 0 || reference.length === 0) return 0;
  const lcs = lcsLength(candidate, reference);
  if (lcs === 0) return 0;
  const precision = lcs / candidate.length;
  const recall = lcs / reference.length;
  return (2 * precision * recall) / (precision + recall);
}

/** Mean ROUGE-L of a candidate against several references; 0 when there are none. */
export function meanRougeL(candidate: readonly string[], references: readonly (readonly string[])[]): number {
  if (references.length === 0) return 0;
  let sum = 0;
  for (const reference of references) sum += rougeL(candidate, reference);
  return sum / references.length;
}
