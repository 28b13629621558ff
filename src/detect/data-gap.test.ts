import { describe, expect, it } from 'vitest';
import { detectorFactoryFor } from './combined.ts';
import { createGapTracker, fleetSilence } from './data-gap.ts';
import { createScorer, type ScoredPoint } from './scorer.ts';

const MIN = 60_000;
const T0 = Date.UTC(2024, 4, 6);

describe('createGapTracker', () => {
  it('reporting=>silent (gap opened from the fleet clock)=>reporting again (gap resolved)', () => {
    const g = createGapTracker({ gapFactor: 6, minGapMs: 30 * MIN });
    const seen: string[] = [];
    for (let t = T0; t <= T0 + 24 * 60 * MIN; t += 5 * MIN) {
      g.observe('busy', t);
      // quiet stops after 10 hours and comes back after 14
      if (t < T0 + 10 * 60 * MIN || t >= T0 + 14 * 60 * MIN) g.observe('quiet', t);
      for (const tr of g.check()) seen.push(`${tr.account}:${tr.transition}@${(tr.atMs - T0) / MIN}:last=${(tr.lastSeenMs - T0) / MIN}`);
    }
    // silent 6 x 5 min = 30 min past its last point (595 min): opened when the fleet clock passed 625 min
    expect(seen).toEqual(['quiet:opened@630:last=595', 'quiet:resolved@840:last=595']);
  });

  it('an account that reports hourly is not in a gap after 40 minutes, but is after 6 hours', () => {
    const g = createGapTracker();
    for (let t = T0; t <= T0 + 5 * 60 * MIN; t += 60 * MIN) g.observe('hourly', t);
    for (let t = T0; t <= T0 + 5 * 60 * MIN + 40 * MIN; t += 5 * MIN) g.observe('busy', t);
    expect(g.check()).toEqual([]);
    for (let t = T0 + 5 * 60 * MIN + 45 * MIN; t <= T0 + 11 * 60 * MIN + 5 * MIN; t += 5 * MIN) g.observe('busy', t);
    expect(g.check().map((t) => `${t.account}:${t.transition}`)).toEqual(['hourly:opened']);
  });

  it('a whole fleet going silent is invisible in event time (the fleet clock stops) and seen in wall time', () => {
    const g = createGapTracker();
    for (let t = T0; t <= T0 + 60 * MIN; t += 5 * MIN) for (const a of ['a', 'b']) g.observe(a, t);
    expect(g.check()).toEqual([]);
    expect(fleetSilence(1_000, 1_000 + 15 * MIN + 1, 15 * MIN)).toBe(true);
    expect(fleetSilence(1_000, 1_000 + 15 * MIN, 15 * MIN)).toBe(false);
    expect(fleetSilence(undefined, 1e12, 15 * MIN)).toBe(false);
  });
});

describe('usage_collapse across a gap', () => {
  it('six silent hours of an account (absent points, not zeros) raise no usage score when data returns', () => {
    const scorer = createScorer({
      watches: [
        {
          id: 'usage_collapse',
          series: 'api_requests',
          metric: 'api_requests',
          factory: detectorFactoryFor('seasonal', 'down', { seasonal: { zFloor: 2 } }),
          ruled: true,
        },
      ],
      defaultFactory: detectorFactoryFor('combined', 'both'),
    });
    const traffic = (t: number) => 1000 * (0.5 + 0.5 * Math.sin((2 * Math.PI * t) / (24 * 60 * MIN))) + 200 + 20 * Math.sin(t / 7e5);
    const scores: ScoredPoint['score'][] = [];
    const gapFrom = T0 + 10 * 24 * 60 * MIN;
    const gapTo = gapFrom + 6 * 60 * MIN;
    for (let t = T0; t < gapTo + 24 * 60 * MIN; t += 5 * MIN) {
      if (t >= gapFrom && t < gapTo) continue;
      scorer.score([{ account: 'acme', metric: 'api_requests', tsMs: t, value: traffic(t) }], (p) => {
        if (p.tsMs >= gapTo) scores.push({ ...p.score });
      });
    }
    expect(scores.length).toBeGreaterThan(200);
    expect(Math.max(...scores.map((s) => s.score))).toBeLessThan(0.35); // usage_collapse's info threshold
  });
});
