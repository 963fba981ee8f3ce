// @ts-check
/**
 * Seeded job sizes for the mixed batches: the bench's queue-mixed scenario and the cluster's
 * mixed-size test run the same kind of batch from the same generator.
 */

/**
 * A seeded generator of numbers in [0, 1) (mulberry32): the same batch on every run and for
 * every contestant.
 * @param {number} seed
 * @returns {() => number}
 */
export function seeded(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * `count` job sizes of whole ms in [low, high], seeded.
 * @param {number} count
 * @param {number} low
 * @param {number} high
 * @param {number} seed
 * @returns {number[]}
 */
export function mixedMs(count, low, high, seed) {
  const random = seeded(seed);
  return Array.from({ length: count }, () => low + Math.floor(random() * (high - low + 1)));
}
