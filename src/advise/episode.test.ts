import { describe, expect, it } from 'vitest';
import { initialEpisode, severityOf, stepEpisode, type EpisodeRule, type EpisodeState, type EpisodeTransition } from './episode.ts';

const rule: EpisodeRule = {
  severity: { warning: 0.6, critical: 0.9 },
  openAfterPoints: 3,
  resolveBelow: 0.3,
  resolveAfterPoints: 2,
};

/** Feeds scores one per 5 minutes and returns the transitions (with their index) and final state. */
function run(scores: number[], r: EpisodeRule = rule): { transitions: string[]; state: EpisodeState } {
  let state = initialEpisode();
  const transitions: string[] = [];
  scores.forEach((s, i) => {
    const step = stepEpisode(state, s, i * 300_000, r);
    state = step.state;
    if (step.transition) transitions.push(`${i}:${step.transition}:${step.transition === 'resolved' ? '' : state.severity}`);
  });
  return { transitions, state };
}

describe('severityOf', () => {
  it.each([
    [0.1, null],
    [0.6, 'warning'],
    [0.89, 'warning'],
    [0.9, 'critical'],
    [1, 'critical'],
  ])('score %s -> %s', (score, want) => {
    expect(severityOf(score, rule.severity)).toBe(want);
  });
  it('uses the optional info threshold', () => {
    expect(severityOf(0.45, { info: 0.4, warning: 0.6, critical: 0.9 })).toBe('info');
  });
});

describe('episodes', () => {
  it.each<[string, number[], string[]]>([
    ['normal stays normal', [0, 0.1, 0.2, 0.1], []],
    ['normal=>pending=>normal: a blip shorter than openAfterPoints opens nothing', [0.7, 0.8, 0.1, 0.7, 0.1], []],
    ['normal=>pending=>open after 3 points over the threshold', [0.1, 0.7, 0.7, 0.7], ['3:opened:warning']],
    ['open=>escalated when severity rises', [0.7, 0.7, 0.7, 0.95], ['2:opened:warning', '3:escalated:critical']],
    ['opens at the highest severity seen while pending', [0.7, 0.95, 0.7], ['2:opened:critical']],
    ['open=>resolved after 2 normal points in a row', [0.7, 0.7, 0.7, 0.2, 0.1], ['2:opened:warning', '4:resolved:']],
    [
      'a point between resolveBelow and the threshold resets resolution (hysteresis)',
      [0.7, 0.7, 0.7, 0.2, 0.5, 0.2, 0.2],
      ['2:opened:warning', '6:resolved:'],
    ],
    [
      'flapping around the threshold while open is one episode, not a storm',
      [0.7, 0.7, 0.7, 0.5, 0.7, 0.5, 0.7, 0.5, 0.1, 0.1],
      ['2:opened:warning', '9:resolved:'],
    ],
    ['severity never falls within an episode', [0.95, 0.95, 0.95, 0.7, 0.7], ['2:opened:critical']],
    [
      'open=>resolved=>open: a new episode after resolution',
      [0.7, 0.7, 0.7, 0.1, 0.1, 0.8, 0.8, 0.8],
      ['2:opened:warning', '4:resolved:', '7:opened:warning'],
    ],
  ])('%s', (_name, scores, want) => {
    expect(run(scores).transitions).toEqual(want);
  });

  it('records the onset at the first anomalous point, not at the opening', () => {
    const { state } = run([0.1, 0.7, 0.7, 0.7]);
    expect(state.phase).toBe('open');
    expect(state.onsetMs).toBe(300_000);
    expect(state.peakScore).toBeCloseTo(0.7);
  });

  it('does not mutate the previous state', () => {
    const s0 = initialEpisode();
    const frozen = Object.freeze({ ...s0 });
    expect(() => stepEpisode(frozen, 0.9, 0, rule)).not.toThrow();
    expect(frozen.phase).toBe('normal');
  });

  it('opens on the first point with openAfterPoints = 1', () => {
    const t: EpisodeTransition[] = [];
    const step = stepEpisode(initialEpisode(), 0.95, 0, { ...rule, openAfterPoints: 1 });
    if (step.transition) t.push(step.transition);
    expect(t).toEqual(['opened']);
  });
});
