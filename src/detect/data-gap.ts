/**
 * Data gaps: telemetry that stops arriving is missing data, not a drop. This tracker notices an
 * account that has gone silent, in event time, from the arrival of other accounts' data: the fleet
 * clock is the newest event time seen from any account, and an account is in a gap when the fleet
 * clock is more than {@link DEFAULT_GAP_FACTOR} x its usual interval past its last point (and at
 * least {@link DEFAULT_MIN_GAP_MS}). A whole fleet going silent cannot be seen in event time (the
 * fleet clock stops too): `fleetSilence` checks the wall time since the last batch arrived, for a
 * periodic check in the composition root. Pure: times come in as arguments.
 *
 * A gap never reaches the detectors as zeros: absent points are simply absent, and the next point
 * after a gap is scored against the baseline for its own time of day.
 */

/** An account is in a gap when silent for more than this many of its usual intervals. */
export const DEFAULT_GAP_FACTOR = 6;
/** ... and for at least this long (event time). */
export const DEFAULT_MIN_GAP_MS = 30 * 60_000;
/** Weight of a new interval in the account's usual interval (exponential average). */
const INTERVAL_ALPHA = 0.1;

/** Options of {@link createGapTracker}. */
export interface GapTrackerOptions {
  gapFactor?: number;
  minGapMs?: number;
}

/** A gap opening or closing. */
export interface GapTransition {
  account: string;
  transition: 'opened' | 'resolved';
  /** event time of the account's last point before the gap */
  lastSeenMs: number;
  /** the fleet clock when the gap opened, or the account's first point after it when it closed */
  atMs: number;
  /** the account's usual interval between points, ms */
  usualIntervalMs: number;
}

/** Tracks per-account arrival in event time. */
export interface GapTracker {
  /** records the points of a batch (account and event time of each) */
  observe(account: string, tsMs: number): void;
  /** gaps opened or closed since the last call, judged against the fleet clock */
  check(): GapTransition[];
  /** the newest event time seen from any account */
  readonly fleetClockMs: number;
  /** accounts currently in a gap */
  openGaps(): string[];
}

/** One account's arrivals. Every field is always present (NaN for none): no `delete`, which would turn the object into a slow dictionary. */
interface AccountArrival {
  lastMs: number;
  intervalMs: number;
  inGap: boolean;
  /** set when a point arrived after a gap, until check() reports it; NaN otherwise */
  resumedAtMs: number;
  /** the last point before the current gap; NaN when there is none */
  gapFromMs: number;
}

/** Creates a gap tracker. */
export function createGapTracker(options: GapTrackerOptions = {}): GapTracker {
  const factor = options.gapFactor ?? DEFAULT_GAP_FACTOR;
  const minGapMs = options.minGapMs ?? DEFAULT_MIN_GAP_MS;
  const accounts = new Map<string, AccountArrival>();
  let fleetClockMs = -Infinity;
  // gaps seen whole inside one batch (the account's next point came late), reported by check()
  const pending: GapTransition[] = [];
  // the previous observation: the points of one account and time usually come one after another,
  // and observing the same account and time again changes nothing (its lastMs is already >= tsMs)
  let prevAccount: string | undefined;
  let prevMs = NaN;
  return {
    observe(account, tsMs) {
      if (tsMs === prevMs && account === prevAccount) return;
      if (!Number.isFinite(tsMs)) return;
      prevAccount = account;
      prevMs = tsMs;
      if (tsMs > fleetClockMs) fleetClockMs = tsMs;
      const a = accounts.get(account);
      if (!a) {
        accounts.set(account, { lastMs: tsMs, intervalMs: NaN, inGap: false, resumedAtMs: NaN, gapFromMs: NaN });
        return;
      }
      if (tsMs <= a.lastMs) return; // the same timestamp (other metrics) or a late point
      const dt = tsMs - a.lastMs;
      if (!a.inGap && !Number.isNaN(a.intervalMs) && dt > Math.max(minGapMs, factor * a.intervalMs)) {
        // the silence began and ended between two checks (e.g. one large batch): report both ends
        pending.push({
          account,
          transition: 'opened',
          lastSeenMs: a.lastMs,
          atMs: a.lastMs + Math.max(minGapMs, factor * a.intervalMs),
          usualIntervalMs: a.intervalMs,
        });
        pending.push({ account, transition: 'resolved', lastSeenMs: a.lastMs, atMs: tsMs, usualIntervalMs: a.intervalMs });
        a.lastMs = tsMs;
        return;
      }
      if (a.inGap) {
        if (Number.isNaN(a.resumedAtMs)) {
          a.resumedAtMs = tsMs;
          a.gapFromMs = a.lastMs;
        }
      }
      // a gap's own length would teach the account that long silences are usual
      else a.intervalMs = Number.isNaN(a.intervalMs) ? dt : a.intervalMs + INTERVAL_ALPHA * (dt - a.intervalMs);
      a.lastMs = tsMs;
    },
    check() {
      const out: GapTransition[] = pending.splice(0, pending.length);
      for (const [account, a] of accounts) {
        if (a.inGap && !Number.isNaN(a.resumedAtMs)) {
          out.push({
            account,
            transition: 'resolved',
            lastSeenMs: Number.isNaN(a.gapFromMs) ? a.lastMs : a.gapFromMs,
            atMs: a.resumedAtMs,
            usualIntervalMs: a.intervalMs,
          });
          a.inGap = false;
          a.resumedAtMs = NaN;
          a.gapFromMs = NaN;
          continue;
        }
        if (a.inGap || Number.isNaN(a.intervalMs)) continue;
        const limit = Math.max(minGapMs, factor * a.intervalMs);
        if (fleetClockMs - a.lastMs > limit) {
          a.inGap = true;
          out.push({ account, transition: 'opened', lastSeenMs: a.lastMs, atMs: fleetClockMs, usualIntervalMs: a.intervalMs });
        }
      }
      return out;
    },
    get fleetClockMs() {
      return fleetClockMs;
    },
    openGaps() {
      return [...accounts].filter(([, a]) => a.inGap).map(([id]) => id);
    },
  };
}

/** Whether the whole fleet is silent: no batch for `silenceMs` of wall time (never before the first batch). */
export function fleetSilence(lastArrivalWallMs: number | undefined, nowWallMs: number, silenceMs: number): boolean {
  return lastArrivalWallMs !== undefined && nowWallMs - lastArrivalWallMs > silenceMs;
}
