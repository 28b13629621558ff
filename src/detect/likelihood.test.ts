import { mulberry32 } from '../../test/support/random.ts';
import { describe, expect, it } from 'vitest';
import { readEwGaussian, writeEwGaussian } from './ew-gaussian.ts';
import { LIKELIHOOD_SLOTS, LikelihoodModel, erfc, resolveLikelihoodOptions, tailLog10 } from './likelihood.ts';
import type { LikelihoodOptions } from './likelihood.ts';
import { SnapshotKind, SnapshotReader, SnapshotWriter, zeroState } from './snapshot.ts';
import type { DetectorState } from './snapshot.ts';

/** one raw-score stream: its slots at `at` of `state` and its count, the way the combined detector keeps them */
class Stream {
  count = 0;
  constructor(
    readonly model: LikelihoodModel,
    readonly state: DetectorState = zeroState(LIKELIHOOD_SLOTS),
    readonly at = 0,
  ) {}

  update(raw: number): number {
    this.count += 1;
    return this.model.update(this.state, this.at, this.count, raw);
  }
}

const stream = (options: LikelihoodOptions = {}): Stream => new Stream(new LikelihoodModel(resolveLikelihoodOptions(options)));

/** a likelihood fed `n` raw scores of |N(0,1)| noise; returns the largest output seen */
function feedNoise(lik: Stream, n: number, seed = 1): number {
  const rand = mulberry32(seed);
  let max = 0;
  for (let i = 0; i < n; i++) {
    const g = Math.sqrt(-2 * Math.log(rand() || 1e-12)) * Math.cos(2 * Math.PI * rand());
    max = Math.max(max, lik.update(Math.abs(g)));
  }
  return max;
}

describe('erfc and tailLog10', () => {
  it.each([
    [0, 1],
    [1, 0.157299207050285],
    [2, 0.004677734981047],
    [-1, 1.842700792949715],
  ])('erfc(%d) is within 1.2e-7 relative of %d', (x, want) => {
    expect(Math.abs(erfc(x) - want) / want).toBeLessThan(1.2e-7);
  });

  it.each([
    [0, Math.log10(2)],
    [2.326347874, 2],
    [4.264890794, 5],
  ])('tailLog10(%d) = %d (-log10 of the normal upper tail)', (z, want) => {
    expect(tailLog10(z)).toBeCloseTo(want, 5);
  });

  it.each([NaN, -Infinity, Infinity, 1e6])('tailLog10(%d) is finite and within [0, 300]', (z) => {
    const t = tailLog10(z);
    expect(Number.isFinite(t)).toBe(true);
    expect(t).toBeGreaterThanOrEqual(0);
    expect(t).toBeLessThanOrEqual(300);
  });
});

describe('anomaly likelihood', () => {
  it('noise=>noise: steady noise never reaches a one-in-10^4 level of surprise once the long run is learned', () => {
    const lik = stream();
    feedNoise(lik, 3000, 7);
    expect(feedNoise(lik, 3000, 8)).toBeLessThan(4);
  });

  it('noise=>burst of surprise: a run of raised raw scores gives a high likelihood within a few points', () => {
    const lik = stream({ shortPoints: 10 });
    feedNoise(lik, 3000);
    let out = 0;
    for (let i = 0; i < 5; i++) out = lik.update(6);
    // |N(0,1)| has mean 0.8 and sigma 0.6; with a recent window of 10 points, after 5 points the
    // recent mean is ~2.9: z ~ 3.5
    expect(out).toBeGreaterThan(3);
  });

  it('a noisy series is judged against its own noise: the same burst is less alarming where surprise is usual', () => {
    const quiet = stream();
    const noisy = stream();
    for (let i = 0; i < 3000; i++) {
      quiet.update(0.5);
      noisy.update(i % 3 === 0 ? 5 : 0.5);
    }
    let q = 0;
    let n = 0;
    for (let i = 0; i < 5; i++) {
      q = quiet.update(5);
      n = noisy.update(5);
    }
    expect(q).toBeGreaterThan(n + 2);
  });

  it('one isolated spike counts less than a short run (the recent level is a mean)', () => {
    const a = stream();
    const b = stream();
    feedNoise(a, 3000, 3);
    feedNoise(b, 3000, 3);
    const single = a.update(8);
    b.update(8);
    b.update(8);
    const run = b.update(8);
    expect(run).toBeGreaterThan(single);
  });

  it.each([NaN, -1, -Infinity])('a raw score of %d is learned as 0 and yields a finite output', (raw) => {
    const lik = stream();
    feedNoise(lik, 100);
    const out = lik.update(raw);
    expect(Number.isFinite(out)).toBe(true);
  });

  it('a huge raw score is capped: it cannot blind the stage to the next anomaly', () => {
    const after = (lik: Stream): number => {
      feedNoise(lik, 3000, 5);
      lik.update(1e12);
      for (let i = 0; i < 100; i++) lik.update(0.8);
      let out = 0;
      for (let i = 0; i < 5; i++) out = lik.update(6);
      return out;
    };
    const capped = after(stream({ shortPoints: 10 }));
    const uncapped = after(stream({ shortPoints: 10, rawCap: 1e13 }));
    expect(capped).toBeGreaterThan(3);
    expect(uncapped).toBeLessThan(1);
  });

  it('snapshot=>restore continues exactly', () => {
    const a = stream();
    feedNoise(a, 500, 11);
    const w = new SnapshotWriter(SnapshotKind.combined, 1, 32);
    writeEwGaussian(w, a.state, 0, a.count);
    const b = stream();
    const r = new SnapshotReader(w.finish(), SnapshotKind.combined, [1], 'test');
    b.count = readEwGaussian(r, b.state, 0);
    r.end();
    for (const raw of [0.3, 4, 9, 0.1]) expect(b.update(raw)).toBe(a.update(raw));
    expect(b.count).toBe(a.count);
  });

  it('streams side by side in one state array, sharing one model, learn as if each were alone', () => {
    const model = new LikelihoodModel(resolveLikelihoodOptions());
    const shared = zeroState(3 * LIKELIHOOD_SLOTS);
    const together = [0, 1, 2].map((k) => new Stream(model, shared, k * LIKELIHOOD_SLOTS));
    const alone = [0, 1, 2].map(() => stream());
    const rand = mulberry32(4);
    for (let i = 0; i < 3000; i++) {
      for (let k = 0; k < 3; k++) {
        const raw = (k + 1) * rand() + (i === 2500 && k === 1 ? 8 : 0);
        expect(together[k]?.update(raw)).toBe(alone[k]?.update(raw));
      }
    }
  });

  it.each(['shortPoints', 'longPoints', 'rawCap'] as const)('rejects a non-positive %s', (k) => {
    expect(() => resolveLikelihoodOptions({ [k]: 0 })).toThrow(new RegExp(`likelihood option ${k}`));
  });
});
