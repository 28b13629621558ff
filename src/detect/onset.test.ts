import { describe, expect, it } from 'vitest';
import type { AnomalyScore } from '../domain/types.ts';
import type { DetectorFactory, SeriesDetector } from './detector.ts';
import { onsetFactory } from './onset.ts';
import { RANGE_DETECTOR } from './range.ts';
import { SnapshotError, SnapshotKind, SnapshotWriter } from './snapshot.ts';

/** a detector whose score is the value itself (so tests script the scores) */
const echo: DetectorFactory = {
  create(snapshot?: Uint8Array): SeriesDetector {
    let last = snapshot === undefined ? 0 : (snapshot[0] ?? 0);
    return {
      stateBytes: 8,
      update(_ts: number, value: number): AnomalyScore {
        last = value;
        return { score: value, direction: value > 0 ? 'up' : 'none', expected: 0, observed: value, deviation: value, detector: 'echo' };
      },
      snapshot: () => new Uint8Array([last]),
    };
  },
};

/** like echo, but a negative value -v scores v as a range novelty */
const echoRange: DetectorFactory = {
  create(): SeriesDetector {
    return {
      stateBytes: 8,
      update(_ts: number, value: number): AnomalyScore {
        const score = Math.abs(value);
        const detector = value < 0 ? RANGE_DETECTOR : 'echo';
        return { score, direction: score > 0 ? 'up' : 'none', expected: 0, observed: value, deviation: score, detector };
      },
      snapshot: () => new Uint8Array(0),
    };
  },
};

function run(d: SeriesDetector, scores: number[]): number[] {
  return scores.map((s, i) => d.update(i * 60_000, s).score);
}

describe('onset filter', () => {
  it.each([
    { name: 'quiet=>fire=>silenced=>quiet=>fire', input: [0, 3, 5, 4, 0, 0, 3], want: [0, 3, 0, 0, 0, 0, 3] },
    { name: 'below fireAt passes through and arms nothing', input: [1, 1.9, 1, 1.5], want: [1, 1.9, 1, 1.5] },
    { name: 'fire=>silenced for exactly refractoryPoints', input: [2, 9, 0, 9, 9, 9], want: [2, 0, 0, 0, 0, 9] },
    {
      name: 'an incident still above fireAt after the refractory period is not reported again',
      input: [2, 9, 9, 9, 9, 9, 9, 5],
      want: [2, 0, 0, 0, 0, 0, 0, 0],
    },
    {
      name: 're-armed once the score falls below rearmBelow',
      input: [3, 9, 9, 9, 9, 9, 1.5, 0.5, 1.5, 4],
      want: [3, 0, 0, 0, 0, 0, 1.5, 0.5, 1.5, 4],
    },
    { name: 'a dip below rearmBelow inside the refractory period re-arms too', input: [3, 0, 9, 9, 9, 9], want: [3, 0, 0, 0, 0, 9] },
  ])('$name', ({ input, want }) => {
    const d = onsetFactory(echo, { fireAt: 2, refractoryPoints: 4 }).create();
    expect(run(d, input)).toEqual(want);
  });

  it('a range novelty is reported during the refractory period and starts it again', () => {
    const d = onsetFactory(echoRange, { fireAt: 2, refractoryPoints: 3 }).create();
    expect(run(d, [3, 9, -5, 9, 9, 0, 9])).toEqual([3, 0, 5, 0, 0, 0, 9]);
    // below fireAt a range score is an ordinary score: silenced in the refractory period
    const e = onsetFactory(echoRange, { fireAt: 2, refractoryPoints: 3 }).create();
    expect(run(e, [3, -1, 0, 0, 1])).toEqual([3, 0, 0, 0, 1]);
  });

  it('a silenced point reports direction none', () => {
    const d = onsetFactory(echo, { fireAt: 2, refractoryPoints: 3 }).create();
    d.update(0, 5);
    expect(d.update(1, 5).direction).toBe('none');
  });

  it('rearmBelow = fireAt re-arms as soon as the score is below the fire level', () => {
    const d = onsetFactory(echo, { fireAt: 2, refractoryPoints: 1, rearmBelow: 2 }).create();
    expect(run(d, [3, 3, 3, 1.9, 3])).toEqual([3, 0, 0, 1.9, 3]);
  });

  it('a range novelty is reported even when the filter is not re-armed, and disarms it', () => {
    const d = onsetFactory(echoRange, { fireAt: 2, refractoryPoints: 1 }).create();
    expect(run(d, [3, 3, 3, -6, 3, 3, 0, 3])).toEqual([3, 0, 0, 6, 0, 0, 0, 3]);
  });

  it('snapshot=>restore keeps the refractory countdown', () => {
    const f = onsetFactory(echo, { fireAt: 2, refractoryPoints: 3 });
    const a = f.create();
    run(a, [5, 5]);
    const b = f.create(a.snapshot());
    expect(run(b, [5, 5, 0, 5])).toEqual([0, 0, 0, 5]);
  });

  it('snapshot=>restore keeps the armed flag', () => {
    const f = onsetFactory(echo, { fireAt: 2, refractoryPoints: 1 });
    const a = f.create();
    run(a, [5, 5, 5]);
    const b = f.create(a.snapshot());
    expect(run(b, [5, 0, 5])).toEqual([0, 0, 5]);
  });

  it('a version 1 snapshot (no armed flag) restores armed, with its countdown', () => {
    const w = new SnapshotWriter(SnapshotKind.onset, 1, 8 + 4 + 1);
    w.f64(1);
    w.u32(1);
    w.raw(new Uint8Array([0]));
    const d = onsetFactory(echo, { fireAt: 2, refractoryPoints: 5 }).create(w.finish());
    expect(run(d, [5, 5])).toEqual([0, 5]);
  });

  it('restoring from bytes of another detector kind throws a SnapshotError', () => {
    expect(() => onsetFactory(echo).create(new Uint8Array([0x46, 0x57, 3, 1]))).toThrow(SnapshotError);
  });

  it.each([{ refractoryPoints: -1 }, { refractoryPoints: 1.5 }, { fireAt: NaN }, { rearmBelow: 3 }, { rearmBelow: NaN }])(
    'rejects options %o',
    (o) => {
      expect(() => onsetFactory(echo, o)).toThrow(RangeError);
    },
  );
});
