/**
 * A small seeded PRNG for the `none` baseline, so the random pool is the same on every
 * rerun with the same seed, on every machine (Math.random cannot be seeded).
 */

/** mulberry32: 32-bit state, good enough spread for sampling, and trivially portable. */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * k distinct indices out of 0..n−1, uniformly, by a partial Fisher–Yates shuffle.
 * Returned sorted ascending, so callers can stream outputs in input order.
 */
export function sampleIndices(n: number, k: number, seed: number): Uint32Array {
  if (!Number.isInteger(k) || k < 0 || k > n) throw new RangeError(`cannot sample ${k} of ${n}`);
  const random = mulberry32(seed);
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i += 1) order[i] = i;
  for (let i = 0; i < k; i += 1) {
    const j = i + Math.floor(random() * (n - i));
    const picked = order[j]!;
    order[j] = order[i]!;
    order[i] = picked;
  }
  return order.slice(0, k).sort();
}
