/**
 * The output sink of the server-backed store: Forewarn's decisions as line protocol, through the
 * same writer (spool, batching, retries) as the raw points. In VictoriaMetrics:
 * - `forewarn_anomaly_{score,expected,observed,deviation,lower,upper}{account,series,rule}` per scored point
 *   (lower/upper: expected -+ 3 x scale, scale = |observed - expected| / |deviation|, when deviation != 0);
 * - `forewarn_health_score{account,tier}` (0..100) per account per ingest batch;
 * - `forewarn_signal_{open,score}{account,rule,domain,tier,severity}` on transitions and per batch while open;
 * - `forewarn_advisory_sent{account,kind,tier,severity}` (value 1) at the advisory's decision time.
 * Lines are buffered in memory and spooled on `flush()` (or when the buffer grows large) without
 * an fdatasync of their own: they are derived data, and the next raw write syncs them anyway.
 * Anomaly fields are written with 7 significant digits (plenty for a chart, and formatting them
 * is the largest cost of this sink: one line per scored point); raw points stay exact.
 */
import type { Signal } from '../../domain/types.ts';
import type { AdvisoryOutput, AnomalyOutput, HealthOutput, OutputSink } from '../output-sink.ts';
import type { InfluxWriter } from './influx-writer.ts';
import { escapeKey, formatLine, formatMs, isWritableName } from './line-format.ts';

/** Options of {@link createInfluxOutputSink}. */
export interface InfluxOutputSinkOptions {
  /** the writer of the server-backed store */
  writer: Pick<InfluxWriter, 'append'>;
  /** spool the buffer once it holds this many bytes, without waiting for `flush()` (default 4 MiB) */
  maxBufferBytes?: number;
  /** told when spooling outputs fails (the outputs are then lost; ingest goes on) */
  onError?: (error: Error) => void;
}

/** Band width of the `lower`/`upper` fields, in robust sigmas. */
export const BAND_SIGMAS = 3;

/** A derived value for a chart: 7 significant digits (about 3x cheaper than the shortest round-trip form). */
function chartFloat(v: number): string {
  return v === 0 ? '0' : v.toPrecision(7);
}

/** Creates the sink. */
export function createInfluxOutputSink(options: InfluxOutputSinkOptions): OutputSink {
  const maxBufferBytes = options.maxBufferBytes ?? 4 * 1024 * 1024;
  const onError = options.onError ?? ((e: Error) => console.error(`forewarn: ${e.message}`));
  let buffer = '';
  let lines = 0;
  // account -> watch id -> `forewarn_anomaly,account=..,rule=..,series=.. score=`
  const anomalyPrefixes = new Map<string, Map<string, string>>();
  let pending: Promise<void> = Promise.resolve();

  const push = (line: string | undefined) => {
    if (line === undefined) return;
    buffer += lines === 0 ? line : `\n${line}`;
    lines += 1;
    if (buffer.length >= maxBufferBytes) void flush();
  };

  const flush = (): Promise<void> => {
    if (lines === 0) return pending;
    const text = buffer;
    const n = lines;
    buffer = '';
    lines = 0;
    pending = options.writer.append(text, n, false).catch((err: unknown) => {
      onError(new Error(`influx output sink: ${n} output lines not spooled: ${(err as Error).message}`, { cause: err }));
    });
    return pending;
  };

  const prefixOf = (account: string, watch: AnomalyOutput['watch']): string | undefined => {
    let byWatch = anomalyPrefixes.get(account);
    if (!byWatch) {
      if (anomalyPrefixes.size >= 100_000) anomalyPrefixes.clear();
      anomalyPrefixes.set(account, (byWatch = new Map()));
    }
    let prefix = byWatch.get(watch.id);
    if (prefix === undefined) {
      if (!isWritableName(account)) return undefined;
      prefix = `forewarn_anomaly,account=${escapeKey(account)}`;
      if (isWritableName(watch.id)) prefix += `,rule=${escapeKey(watch.id)}`;
      if (isWritableName(watch.series)) prefix += `,series=${escapeKey(watch.series)}`;
      prefix += ' score=';
      byWatch.set(watch.id, prefix);
    }
    return prefix;
  };

  return {
    enabled: true,
    anomaly(p) {
      const s = p.score;
      if (!Number.isFinite(s.score) || !(p.tsMs >= 1)) return;
      const prefix = prefixOf(p.account, p.watch);
      if (prefix === undefined) return;
      let line = prefix + chartFloat(s.score);
      if (Number.isFinite(s.expected)) line += `,expected=${chartFloat(s.expected)}`;
      if (Number.isFinite(s.observed)) line += `,observed=${chartFloat(s.observed)}`;
      if (Number.isFinite(s.deviation)) {
        line += `,deviation=${chartFloat(s.deviation)}`;
        if (s.deviation !== 0 && Number.isFinite(s.expected) && Number.isFinite(s.observed)) {
          const half = (BAND_SIGMAS * Math.abs(s.observed - s.expected)) / Math.abs(s.deviation);
          if (Number.isFinite(half)) line += `,lower=${chartFloat(s.expected - half)},upper=${chartFloat(s.expected + half)}`;
        }
      }
      push(`${line} ${formatMs(p.tsMs)}`);
    },
    health(h: HealthOutput) {
      push(
        formatLine(
          'forewarn_health',
          [
            ['account', h.account],
            ['tier', h.tier],
          ],
          [['score', h.score]],
          h.tsMs,
        ),
      );
    },
    signal(sig: Signal, tsMs: number, score: number) {
      push(
        formatLine(
          'forewarn_signal',
          [
            ['account', sig.account],
            ['domain', sig.domain],
            ['rule', sig.rule],
            ['severity', sig.severity],
            ['tier', sig.tier],
          ],
          [
            ['open', sig.state === 'open' ? 1 : 0],
            ['score', score],
          ],
          tsMs,
        ),
      );
    },
    advisory(a: AdvisoryOutput) {
      push(
        formatLine(
          'forewarn_advisory',
          [
            ['account', a.account],
            ['kind', a.kind],
            ['severity', a.severity],
            ['tier', a.tier],
          ],
          [['sent', 1]],
          a.decidedAtMs,
        ),
      );
    },
    flush,
    async close() {
      await flush();
    },
  };
}
