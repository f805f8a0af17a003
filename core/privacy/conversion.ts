/**
 * From an RDP curve to one (ε, δ) guarantee, and the composition of several DP-SGD runs
 * into one.
 *
 * The conversion is the improved one of Balle, Barthe, Gaboardi, Hsu, Sato, "Hypothesis
 * Testing Interpretations and Rényi Differential Privacy", AISTATS 2020 (Theorem 21 of
 * arXiv:1905.09982; Canonne, Kamath, Steinke 2020 give the same bound):
 *   ε = min over α of  rdp(α) + log((α−1)/α) − (log δ + log α)/(α − 1).
 * It is what Opacus' `get_privacy_spent` computes, and it is tighter than Mironov's
 * original rdp(α) + log(1/δ)/(α−1) at every order.
 */
import { composeRdp, DEFAULT_ORDERS, type Mechanism } from './rdp.js';

export interface EpsilonAtOrder {
  /** The (ε, δ) guarantee's ε, at least 0; Infinity when no order gives a finite bound. */
  epsilon: number;
  /** The RDP order that gave the smallest ε (NaN when none did). */
  order: number;
}

function checkDelta(delta: number): void {
  if (!(delta > 0 && delta < 1)) throw new RangeError(`delta must lie in (0, 1), got ${delta}`);
}

/** The smallest ε over the orders of an RDP curve, for the given δ. */
export function rdpToEpsilon({
  orders,
  rdp,
  delta,
}: {
  orders: readonly number[];
  rdp: readonly number[];
  delta: number;
}): EpsilonAtOrder {
  if (orders.length !== rdp.length) {
    throw new RangeError(`orders (${orders.length}) and rdp (${rdp.length}) differ in length`);
  }
  checkDelta(delta);
  const logDelta = Math.log(delta);
  let best: EpsilonAtOrder = { epsilon: Infinity, order: NaN };
  let sawNumber = false;
  orders.forEach((alpha, k) => {
    const value = rdp[k] ?? NaN;
    const epsilon = value - (logDelta + Math.log(alpha)) / (alpha - 1) + Math.log((alpha - 1) / alpha);
    if (Number.isNaN(epsilon)) return;
    // The first order wins ties and an all-infinite curve, as numpy's nanargmin does.
    if (!sawNumber || epsilon < best.epsilon) best = { epsilon, order: alpha };
    sawNumber = true;
  });
  // A large δ can push the bound below 0 (Opacus returns it as is); no guarantee has ε < 0.
  return { epsilon: Math.max(0, best.epsilon), order: best.order };
}

/** ε and best order of several DP-SGD runs on the same records, composed in RDP. */
export function composePrivacy(
  mechanisms: readonly Mechanism[],
  delta: number,
  orders: readonly number[] = DEFAULT_ORDERS,
): EpsilonAtOrder {
  return rdpToEpsilon({ orders, rdp: composeRdp(mechanisms, orders), delta });
}

/** The total ε of several DP-SGD runs on the same records (RDP composition, then conversion). */
export function composeEpsilon(mechanisms: readonly Mechanism[], delta: number): number {
  return composePrivacy(mechanisms, delta).epsilon;
}

/** The ε of one DP-SGD run on its own. */
export function mechanismEpsilon(mechanism: Mechanism, delta: number): number {
  return composePrivacy([mechanism], delta).epsilon;
}
