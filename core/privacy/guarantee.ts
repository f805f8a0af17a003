/**
 * The one guarantee every figure of a run is stated under (docs/privacy.md, "The promise in
 * one paragraph"). privacy.json, `rewardds plan --json` and the run report take their
 * words from here; a test holds the sentence identical to the doc's.
 */

/** Neighbouring datasets differ by adding or removing one record. */
export const NEIGHBOURING = 'add-remove';

/** What the (ε, δ) of a run means and what it leaves public, as docs/privacy.md says it. */
export const NEIGHBOURING_STATEMENT =
  'The two datasets compared differ by adding or removing one record (add/remove-one-record differential privacy), and the record count N is treated as public: it is released exactly and is not protected.';
