/**
 * Durations in rules files: strings such as `15m`, `4h`, `2d` or `1h30m`, turned into milliseconds.
 * Like Prometheus durations, units go from largest to smallest, each at most once, and a bare number
 * is an error (is `15` seconds or minutes?).
 */

/** Units accepted in a duration, largest first, with their length in milliseconds. */
const UNITS: ReadonlyArray<readonly [unit: string, ms: number]> = [
  ['w', 7 * 24 * 3_600_000],
  ['d', 24 * 3_600_000],
  ['h', 3_600_000],
  ['m', 60_000],
  ['s', 1_000],
  ['ms', 1],
];

/** `ms` is tried before `m`, so `5ms` is five milliseconds and not five minutes and an `s`. */
const PART = /(\d+)(ms|w|d|h|m|s)/y;

/** The hint appended to every duration error. */
export const DURATION_HINT = 'use e.g. 15m, 4h, 2d';

/**
 * Parses a duration such as `15m`, `4h`, `2d`, `1h30m` or `250ms` into milliseconds.
 *
 * @throws RangeError with a lower-case message naming the bad input, e.g.
 *   `invalid duration "15 minutes" (use e.g. 15m, 4h, 2d)`
 */
export function parseDuration(text: string): number {
  const fail = (why?: string): never => {
    throw new RangeError(`invalid duration ${JSON.stringify(text)} (${why ? `${why}; ` : ''}${DURATION_HINT})`);
  };
  if (text.length === 0) fail('empty');
  if (/^\d+(\.\d+)?$/.test(text)) fail('missing unit');
  let total = 0;
  let lastUnitIndex = -1;
  PART.lastIndex = 0;
  while (PART.lastIndex < text.length) {
    const start = PART.lastIndex;
    const match = PART.exec(text);
    if (!match || match.index !== start) fail();
    const [, digits = '', unit = ''] = match as RegExpExecArray;
    const unitIndex = UNITS.findIndex(([u]) => u === unit);
    // each unit once, largest first: `30m1h` and `1h1h` are almost certainly typos
    if (unitIndex <= lastUnitIndex) fail('units must go from largest to smallest, each at most once');
    lastUnitIndex = unitIndex;
    total += Number(digits) * (UNITS[unitIndex]?.[1] ?? 0);
  }
  if (!Number.isSafeInteger(total)) fail('too large');
  return total;
}

/** Formats milliseconds as the shortest duration string `parseDuration` reads back, e.g. `1h30m`; `0s` for 0. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return String(ms);
  if (ms === 0) return '0s';
  let rest = Math.round(ms);
  let out = '';
  // weeks are skipped on output: `14d` reads better than `2w` in SLO tables
  for (const [unit, size] of UNITS) {
    if (unit === 'w') continue;
    const n = Math.floor(rest / size);
    if (n > 0) {
      out += `${n}${unit}`;
      rest -= n * size;
    }
  }
  return out;
}
