/** Seeded randomness for tests: the same seed gives the same numbers on every run. */
import { rng } from '../../src/demo/fleet.ts';

/** A seedable PRNG in [0, 1) (mulberry32, the demo fleet's generator). */
export const mulberry32 = rng;

/** A standard normal draw (Box-Muller) from `rand`. */
export function gaussian(rand: () => number): number {
  return Math.sqrt(-2 * Math.log(rand() || 1e-12)) * Math.cos(2 * Math.PI * rand());
}
