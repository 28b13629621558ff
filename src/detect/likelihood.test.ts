import { mulberry32 } from '../../test/support/random.ts';
import { describe, expect, it } from 'vitest';
import { AnomalyLikelihood, erfc, resolveLikelihoodOptions, tailLog10 } from './likelihood.ts';
import { SnapshotKind, SnapshotReader, SnapshotWriter } from './snapshot.ts';

/** a likelihood fed `n` raw scores of |N(0,1)| noise; returns the largest output seen */
function feedNoise(lik: AnomalyLikelihood, n: number, seed = 1): number {
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
  const o = resolveLikelihoodOptions();

  it('noise=>noise: steady noise never reaches a one-in-10^4 level of surprise once the long run is learned', () => {
    const lik = new AnomalyLikelihood(o);
    feedNoise(lik, 3000, 7);
    expect(feedNoise(lik, 3000, 8)).toBeLessThan(4);
  });

  it('noise=>burst of surprise: a run of raised raw scores gives a high likelihood within a few points', () => {
    const lik = new AnomalyLikelihood(o);
    feedNoise(lik, 3000);
    let out = 0;
    for (let i = 0; i < 5; i++) out = lik.update(6);
    // |N(0,1)| has mean 0.8 and sigma 0.6; after 5 points the recent mean is ~2.9: z ~ 3.5
    expect(out).toBeGreaterThan(3);
  });

  it('a noisy series is judged against its own noise: the same burst is less alarming where surprise is usual', () => {
    const quiet = new AnomalyLikelihood(o);
    const noisy = new AnomalyLikelihood(o);
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
    const a = new AnomalyLikelihood(o);
    const b = new AnomalyLikelihood(o);
    feedNoise(a, 3000, 3);
    feedNoise(b, 3000, 3);
    const single = a.update(8);
    b.update(8);
    b.update(8);
    const run = b.update(8);
    expect(run).toBeGreaterThan(single);
  });

  it.each([NaN, -1, -Infinity])('a raw score of %d is learned as 0 and yields a finite output', (raw) => {
    const lik = new AnomalyLikelihood(o);
    feedNoise(lik, 100);
    const out = lik.update(raw);
    expect(Number.isFinite(out)).toBe(true);
  });

  it('a huge raw score is capped: it cannot blind the stage to the next anomaly', () => {
    const after = (lik: AnomalyLikelihood): number => {
      feedNoise(lik, 3000, 5);
      lik.update(1e12);
      for (let i = 0; i < 100; i++) lik.update(0.8);
      let out = 0;
      for (let i = 0; i < 5; i++) out = lik.update(6);
      return out;
    };
    const capped = after(new AnomalyLikelihood(o));
    const uncapped = after(new AnomalyLikelihood(resolveLikelihoodOptions({ rawCap: 1e13 })));
    expect(capped).toBeGreaterThan(3);
    expect(uncapped).toBeLessThan(1);
  });

  it('snapshot=>restore continues exactly', () => {
    const a = new AnomalyLikelihood(o);
    feedNoise(a, 500, 11);
    const w = new SnapshotWriter(SnapshotKind.combined, 1, 32);
    a.write(w);
    const b = new AnomalyLikelihood(o);
    const r = new SnapshotReader(w.finish(), SnapshotKind.combined, [1], 'test');
    b.read(r);
    r.end();
    for (const raw of [0.3, 4, 9, 0.1]) expect(b.update(raw)).toBe(a.update(raw));
    expect(b.count).toBe(a.count);
  });

  it.each(['shortPoints', 'longPoints', 'rawCap'] as const)('rejects a non-positive %s', (k) => {
    expect(() => resolveLikelihoodOptions({ [k]: 0 })).toThrow(new RegExp(`likelihood option ${k}`));
  });
});
