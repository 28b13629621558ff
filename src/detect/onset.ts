/**
 * Onset filter: reports an anomaly once, at its start, and stays quiet until the anomaly is over.
 * A point scoring at or above `fireAt` is a detection; after it the score is 0 for the next
 * `refractoryPoints` points, and after that too until the score has fallen below `rearmBelow`
 * (the filter is a Schmitt trigger: it fires on the way up through `fireAt` and re-arms on the
 * way down through `rearmBelow`).
 *
 * Why: a benchmark that counts every anomalous row outside a labelled window as a false positive
 * (NAB does) and rewards only the earliest detection inside one charges a detector for every row
 * of an incident it keeps reporting. The engine itself does not need this wrapper: its signal
 * episodes (advise/episode.ts) open once per incident and do not re-alert while open, which is
 * the same suppression at the signal level. So the engine scores with the plain detector, and the
 * NAB bench with the detector behind this filter, which is what turns scores into one-row "signals".
 *
 * Why the re-arm level: an incident that outlasts the refractory period kept its score above the
 * fire level, and without it was reported a second time the point the period ended. Requiring the
 * score to have fallen below 1 (a level seen about once in ten points) in between reports a new
 * rise, not a continuing one (NAB: 147 false positives became 128, the same 103 windows found).
 *
 * One exception: a score that a range novelty produced (detector {@link RANGE_DETECTOR}: a value or
 * level beyond everything the series has shown, range.ts) is reported even during the refractory
 * period, and starts it again. A new extreme is news however recent the last report (a second
 * incident right after a first), and the range only grows, so it cannot repeat for every point of
 * one incident the way a raised likelihood does.
 *
 * The refractory counts points, not time: the filter sees only what the detector sees. State: two
 * numbers (points left, armed), kept in the snapshot with the inner detector's bytes.
 */
import { FINITE, checkNumbers, withDefaults } from './options.ts';
import type { AnomalyScore } from '../domain/types.ts';
import type { DetectorFactory, SeriesDetector } from './detector.ts';
import { RANGE_DETECTOR } from './range.ts';
import { SnapshotKind, SnapshotReader, SnapshotWriter } from './snapshot.ts';

/** Default options; see {@link OnsetOptions}. */
export const ONSET_DEFAULTS = Object.freeze({
  /**
   * The level that counts as a detection, in the inner detector's score units. For the combined
   * detector's likelihood output, 2 = a recent surprise level seen once in a hundred points.
   */
  fireAt: 2,
  /**
   * Points of silence after a detection: an incident's later rows are not new detections. NAB's
   * windows span ~10% of a file (100-400 rows); 100 covers most of one (400 loses ~6 points).
   */
  refractoryPoints: 100,
  /**
   * After a detection, the score must fall below this before another one counts (in the inner
   * detector's units; for the likelihood, 1 = a level seen once in ten points). Half the fire
   * level: low enough that noise around the fire level does not re-arm it, high enough that an
   * incident's calm stretch does (NAB, against 1: 0.5 scores 0.4-0.7 lower, 0.8 0.8 lower, 1.2
   * and 1.5 within 0.3).
   */
  rearmBelow: 1,
});

/** Options of {@link onsetFactory}. */
export interface OnsetOptions {
  /** a score at or above this is a detection and starts the refractory period (default 2) */
  fireAt?: number;
  /** points scored 0 after a detection (default 100) */
  refractoryPoints?: number;
  /** after a detection, no other until the score has been below this (default 1; at most fireAt) */
  rearmBelow?: number;
}

/** Version 2 adds the armed flag (version 1 snapshots restore armed). */
const SNAPSHOT_VERSION = 2;
/** Heap of the wrapper object on top of the inner detector (object, one boxed number, a flag, result). */
export const ONSET_OBJECT_OVERHEAD_BYTES = 64;

function resolveOnset(options: OnsetOptions): Readonly<Required<OnsetOptions>> {
  const o = withDefaults<Required<OnsetOptions>>(ONSET_DEFAULTS, options);
  checkNumbers('onset', o, ['fireAt'], FINITE);
  checkNumbers('onset', o, ['refractoryPoints'], { says: 'a non-negative integer', ok: (v) => Number.isInteger(v) && v >= 0 });
  checkNumbers('onset', o, ['rearmBelow'], {
    says: `a finite number no larger than fireAt (${String(o.fireAt)})`,
    ok: (v) => v <= o.fireAt,
  });
  return Object.freeze(o);
}

class OnsetDetector implements SeriesDetector {
  private quiet = 0;
  /** false from a detection until the score falls below rearmBelow */
  private armed = true;

  constructor(
    private readonly o: Readonly<Required<OnsetOptions>>,
    private readonly inner: SeriesDetector,
  ) {}

  get stateBytes(): number {
    return this.inner.stateBytes + 16 + ONSET_OBJECT_OVERHEAD_BYTES;
  }

  update(tsMs: number, value: number): AnomalyScore {
    return this.filter(this.inner.update(tsMs, value));
  }

  updateInto(tsMs: number, value: number, out: AnomalyScore): AnomalyScore {
    const inner = this.inner;
    return this.filter(inner.updateInto ? inner.updateInto(tsMs, value, out) : Object.assign(out, inner.update(tsMs, value)));
  }

  private filter(s: AnomalyScore): AnomalyScore {
    const o = this.o;
    if (s.score < o.rearmBelow) this.armed = true;
    if (s.detector === RANGE_DETECTOR && s.score >= o.fireAt) {
      this.fired();
    } else if (this.quiet > 0) {
      this.quiet -= 1;
      silence(s);
    } else if (s.score >= o.fireAt) {
      if (this.armed) this.fired();
      else silence(s);
    }
    return s;
  }

  private fired(): void {
    this.quiet = this.o.refractoryPoints;
    this.armed = false;
  }

  snapshot(): Uint8Array {
    const inner = this.inner.snapshot();
    const w = new SnapshotWriter(SnapshotKind.onset, SNAPSHOT_VERSION, 8 + 8 + 4 + inner.length);
    w.f64(this.quiet);
    w.f64(this.armed ? 1 : 0);
    w.u32(inner.length);
    w.raw(inner);
    return w.finish();
  }

  /** restores the wrapper's state; returns the inner detector's bytes */
  static innerOf(bytes: Uint8Array): { quiet: number; armed: boolean; inner: Uint8Array } {
    const r = new SnapshotReader(bytes, SnapshotKind.onset, [1, SNAPSHOT_VERSION], 'onset filter');
    const quiet = r.f64();
    const armed = r.version === 1 ? true : r.f64() !== 0;
    const inner = r.raw(r.u32());
    r.end();
    return { quiet, armed, inner };
  }

  restore(quiet: number, armed: boolean): void {
    this.quiet = quiet;
    this.armed = armed;
  }
}

/** the inner detector has learned the point; only the report is silenced */
function silence(s: AnomalyScore): void {
  s.score = 0;
  s.direction = 'none';
}

/**
 * Wraps a detector factory so that each detector reports only the onset of an anomaly (see the
 * module comment). Throws RangeError on invalid options; `update()` never throws.
 */
export function onsetFactory(inner: DetectorFactory, options: OnsetOptions = {}): DetectorFactory {
  const o = resolveOnset(options);
  return {
    create(snapshot?: Uint8Array): SeriesDetector {
      if (snapshot === undefined) return new OnsetDetector(o, inner.create());
      const { quiet, armed, inner: bytes } = OnsetDetector.innerOf(snapshot);
      const d = new OnsetDetector(o, inner.create(bytes));
      d.restore(quiet, armed);
      return d;
    },
  };
}
