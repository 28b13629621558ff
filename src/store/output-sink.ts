/**
 * The output sink: what Forewarn writes about its own decisions next to the raw telemetry, so a
 * dashboard can chart anomaly scores, health and signals beside usage. The embedded default is
 * {@link noopOutputSink} (outputs live in state.db); `influx/influx-output-sink.ts` writes them to
 * a time-series server. Callers check `enabled` once and skip all output work when it is false.
 */
import type { AdvisoryKind, AnomalyScore, Severity, Signal } from '../domain/types.ts';

/** One scored point (structurally a `ScoredPoint` of the scorer; read at once, never kept). */
export interface AnomalyOutput {
  account: string;
  /** the watch that scored it: rule name (or `metric:<name>` for a default watch) and series name */
  watch: { readonly id: string; readonly series: string };
  tsMs: number;
  score: AnomalyScore;
}

/** The health of one account at the latest event time of an ingest batch that touched it. */
export interface HealthOutput {
  account: string;
  tier: string;
  /** 0..100, 100 = healthy */
  score: number;
  tsMs: number;
}

/** An advisory queued in the outbox. */
export interface AdvisoryOutput {
  account: string;
  kind: AdvisoryKind;
  tier: string;
  severity: Severity;
  /** event time the advisory was decided at */
  decidedAtMs: number;
}

/** Where Forewarn's outputs go. Methods other than `flush` and `close` never throw and never block. */
export interface OutputSink {
  /** false: every method is a no-op, and callers skip the work of building outputs */
  readonly enabled: boolean;
  /** the anomaly score of one scored point (per series, rule and default watches alike) */
  anomaly(p: AnomalyOutput): void;
  health(h: HealthOutput): void;
  /** a signal's state at event time `tsMs` (on every transition, and per batch while it is open) */
  signal(s: Signal, tsMs: number, score: number): void;
  advisory(a: AdvisoryOutput): void;
  /** hands what was buffered to the writer; resolves once it is spooled */
  flush(): Promise<void>;
  /** flushes; the writer underneath belongs to the store and is closed with it */
  close(): Promise<void>;
}

/** The sink of the embedded default: drops everything, costs nothing. */
export const noopOutputSink: OutputSink = Object.freeze({
  enabled: false,
  anomaly() {},
  health() {},
  signal() {},
  advisory() {},
  flush: () => Promise.resolve(),
  close: () => Promise.resolve(),
});
