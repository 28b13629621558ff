/**
 * Signal episodes: the pure state machine that turns a stream of anomaly scores of one
 * account x rule into one incident (opened, escalated, resolved), with hysteresis both ways so a
 * flapping series is one signal, not a storm.
 *
 *   normal --(score >= open threshold)--> pending --(openAfterPoints in a row)--> open
 *   pending --(a normal point)--> normal
 *   open --(severity rises)--> open (escalated)           severities never fall within an episode
 *   open --(resolveAfterPoints in a row below resolveBelow)--> normal (resolved)
 */
import type { SeverityThresholds } from '../config/types.ts';
import type { Severity } from '../domain/types.ts';

export type EpisodePhase = 'normal' | 'pending' | 'open';

/** Everything the machine remembers about one account x rule; plain data so it can be checkpointed. */
export interface EpisodeState {
  phase: EpisodePhase;
  /** consecutive anomalous points (pending / open) */
  overCount: number;
  /** consecutive normal points while open */
  underCount: number;
  /** event time of the first anomalous point of the current run */
  onsetMs: number;
  /** highest severity reached in the current run (pending or open) */
  severity: Severity | null;
  peakScore: number;
}

export interface EpisodeRule {
  severity: SeverityThresholds;
  openAfterPoints: number;
  resolveBelow: number;
  resolveAfterPoints: number;
}

export type EpisodeTransition = 'opened' | 'escalated' | 'resolved';

export interface EpisodeStep {
  state: EpisodeState;
  transition?: EpisodeTransition;
}

const RANK: Record<Severity, number> = { info: 0, warning: 1, critical: 2 };

/** The state of a series with no incident. */
export function initialEpisode(): EpisodeState {
  return { phase: 'normal', overCount: 0, underCount: 0, onsetMs: 0, severity: null, peakScore: 0 };
}

/** The severity a score maps to under the rule's thresholds, or null when below all of them. */
export function severityOf(score: number, t: SeverityThresholds): Severity | null {
  if (score >= t.critical) return 'critical';
  if (score >= t.warning) return 'warning';
  if (t.info !== undefined && score >= t.info) return 'info';
  return null;
}

function maxSeverity(a: Severity | null, b: Severity | null): Severity | null {
  if (a === null) return b;
  if (b === null) return a;
  return RANK[b] > RANK[a] ? b : a;
}

/** Advances the machine by one scored point (event time `tsMs`). Never mutates `prev`. */
export function stepEpisode(prev: EpisodeState, score: number, tsMs: number, rule: EpisodeRule): EpisodeStep {
  const sev = severityOf(score, rule.severity);
  const s: EpisodeState = { ...prev };

  if (s.phase === 'open') {
    s.peakScore = Math.max(s.peakScore, score);
    if (score < rule.resolveBelow) {
      s.underCount += 1;
      if (s.underCount >= rule.resolveAfterPoints) return { state: initialEpisode(), transition: 'resolved' };
      return { state: s };
    }
    // not normal enough to count towards resolution
    s.underCount = 0;
    if (sev !== null && s.severity !== null && RANK[sev] > RANK[s.severity]) {
      s.severity = sev;
      return { state: s, transition: 'escalated' };
    }
    return { state: s };
  }

  if (sev === null) return { state: initialEpisode() };

  if (s.phase === 'normal') {
    s.phase = 'pending';
    s.overCount = 0;
    s.onsetMs = tsMs;
    s.severity = null;
    s.peakScore = 0;
  }
  s.overCount += 1;
  s.severity = maxSeverity(s.severity, sev);
  s.peakScore = Math.max(s.peakScore, score);
  if (s.overCount >= rule.openAfterPoints) {
    s.phase = 'open';
    s.underCount = 0;
    return { state: s, transition: 'opened' };
  }
  return { state: s };
}
