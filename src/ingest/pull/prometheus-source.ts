/**
 * The Prometheus / OpenMetrics pull source: scrapes each target's `/metrics` on the source's
 * interval and turns samples into points.
 *
 * - account: the value of `account_label` when the sample has it, else the target's `account`
 * - metric: the sample name, plus the values of `suffix_labels` (`http_requests_total` with
 *   method="GET" -> `http_requests_total_GET`); two samples of one scrape that land on the same
 *   account x metric are a `duplicate_series` reject naming the label to add
 * - time: the sample's timestamp (when it has one and `honor_timestamps`), else the scrape time;
 *   a sample whose own timestamp did not move since the previous scrape is skipped
 * - counters (and histogram/summary `_count`, `_sum`, `_bucket`) with `counters: delta` become
 *   the increase per interval: (value - previous) * interval / elapsed, a reset counting from 0;
 *   the first scrape of a series only primes it. `_created` samples are skipped.
 * - NaN and infinite values are rejected (`non_finite`), unreadable lines too, with their line.
 *
 * The cursor is, per target and sample, the last timestamp and value: deltas continue across a
 * restart. A failing target is reported as a warning while the others are ingested; the pull
 * fails only when every target failed.
 */
import type { PrometheusSourceSpec } from '../../config/types.ts';
import type { Point } from '../../domain/types.ts';
import { isOpenMetrics, parseExposition, type Sample } from './exposition.ts';
import { errorText, resolveHeaders, type PullContext, type PullPage, type PullReject, type PullSource } from './source.ts';

/** Options of `createPrometheusSource`. */
export interface PrometheusSourceOptions {
  spec: PrometheusSourceSpec;
  ctx: PullContext;
}

/** The persisted cursor: per target and sample (`url \0 name{labels}`), the last [tsMs, value]. */
export interface ScrapeCursor {
  series: Record<string, [number, number]>;
}

const ACCEPT = 'application/openmetrics-text;version=1.0.0;q=0.8,text/plain;version=0.0.4;q=0.5,*/*;q=0.1';
const MAX_BODY_CHARS = 64 * 1024 * 1024;

/** A `*` glob over metric names as a regular expression. */
export function globToRegExp(glob: string): RegExp {
  return new RegExp(
    `^${glob
      .split('*')
      .map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
  );
}

/** Whether a sample counts up (so `counters: delta` applies), or is a `_created` sample to skip. */
export function sampleKind(name: string, types: ReadonlyMap<string, string>): 'cumulative' | 'created' | 'gauge' {
  const own = types.get(name);
  if (own === 'counter') return 'cumulative';
  const m = /^(.*)_(total|count|sum|bucket|created)$/.exec(name);
  if (!m) return 'gauge';
  const family = types.get(m[1]!);
  if (family === undefined) return 'gauge';
  if (m[2] === 'created') return family === 'counter' || family === 'histogram' || family === 'summary' ? 'created' : 'gauge';
  if (family === 'counter') return 'cumulative';
  if (family === 'histogram' || family === 'summary') return m[2] === 'total' ? 'gauge' : 'cumulative';
  return 'gauge';
}

/** The identity of a sample within a target: name and sorted labels. */
function sampleId(s: Sample): string {
  const keys = Object.keys(s.labels).sort();
  return `${s.name}{${keys.map((k) => `${k}=${JSON.stringify(s.labels[k])}`).join(',')}}`;
}

function asCursor(raw: unknown): ScrapeCursor {
  const series: ScrapeCursor['series'] = {};
  const src = (raw as Partial<ScrapeCursor> | null | undefined)?.series;
  if (src && typeof src === 'object') {
    for (const [k, v] of Object.entries(src)) {
      if (Array.isArray(v) && typeof v[0] === 'number' && typeof v[1] === 'number') series[k] = [v[0], v[1]];
    }
  }
  return { series };
}

/** Creates a Prometheus scrape source; throws when a `headers_env` variable is not set. */
export function createPrometheusSource(options: PrometheusSourceOptions): PullSource {
  const { spec, ctx } = options;
  const headers = { accept: ACCEPT, ...resolveHeaders(ctx, spec.name, {}, spec.headersEnv) };
  const include = spec.include.map(globToRegExp);

  async function scrape(url: string, signal: AbortSignal): Promise<{ text: string; openMetrics: boolean }> {
    let res: Response;
    try {
      res = await fetch(url, { headers, signal: AbortSignal.any([signal, AbortSignal.timeout(spec.timeoutMs)]) });
    } catch (err) {
      throw new Error(`GET ${url}: ${errorText(err)}`, { cause: err });
    }
    if (!res.ok) {
      const body = (await res.text().catch(() => '')).slice(0, 200).trim();
      throw new Error(`GET ${url}: HTTP ${res.status} ${res.statusText}${body ? `: ${body}` : ''}`);
    }
    const text = await res.text();
    if (text.length > MAX_BODY_CHARS) throw new Error(`GET ${url}: body over ${MAX_BODY_CHARS} characters`);
    return { text, openMetrics: isOpenMetrics(res.headers.get('content-type')) };
  }

  async function* pages(rawCursor: unknown, signal: AbortSignal): AsyncGenerator<PullPage, void, void> {
    const old = asCursor(rawCursor);
    const next: ScrapeCursor = { series: {} };
    const points: Point[] = [];
    const origins: string[] = [];
    const rejects: PullReject[] = [];
    const warnings: string[] = [];
    let skipped = 0;
    const results = await Promise.allSettled(spec.targets.map((t) => scrape(t.url, signal)));
    const taken = new Map<string, string>();
    results.forEach((r, ti) => {
      const target = spec.targets[ti]!;
      const prefix = `${target.url}\u0000`;
      if (r.status === 'rejected') {
        warnings.push(errorText(r.reason));
        // keep the failing target's state so its deltas continue once it answers again
        for (const [k, v] of Object.entries(old.series)) if (k.startsWith(prefix)) next.series[k] = v;
        return;
      }
      const scrapeMs = ctx.clock.nowMs();
      const exp = parseExposition(r.value.text, { openMetrics: r.value.openMetrics });
      for (const e of exp.errors) rejects.push({ origin: `${target.url} line ${e.line}`, code: e.code, reason: e.reason });
      for (const s of exp.samples) {
        const origin = `${target.url} line ${s.line}`;
        const kind = sampleKind(s.name, exp.types);
        if (kind === 'created') continue;
        if (include.length > 0 && !include.some((re) => re.test(s.name))) continue;
        const labelled = spec.accountLabel !== undefined ? s.labels[spec.accountLabel] : undefined;
        const account = labelled !== undefined && labelled !== '' ? labelled : target.account;
        if (account === undefined) {
          rejects.push({
            origin,
            code: 'missing_account',
            reason: `${s.name}: no "${spec.accountLabel ?? ''}" label and the target has no account`,
          });
          continue;
        }
        if (!Number.isFinite(s.value)) {
          rejects.push({ origin, code: 'non_finite', reason: `${s.name}: value is ${String(s.value)}` });
          continue;
        }
        let metric = s.name;
        for (const l of spec.suffixLabels) {
          const v = s.labels[l];
          if (v !== undefined && v !== '') metric += `_${v.replace(/[^A-Za-z0-9_]/g, '_')}`;
        }
        const id = prefix + sampleId(s);
        const prev = old.series[id];
        const own = spec.honorTimestamps && s.tsMs !== undefined;
        const tsMs = own ? s.tsMs! : scrapeMs;
        if (own && prev && tsMs <= prev[0]) {
          // the exporter still shows the sample we already have
          skipped += 1;
          next.series[id] = prev;
          continue;
        }
        next.series[id] = [tsMs, s.value];
        let value = s.value;
        if (kind === 'cumulative' && spec.counters === 'delta') {
          if (!prev || tsMs <= prev[0]) continue; // first sight primes the series
          const increase = s.value >= prev[1] ? s.value - prev[1] : s.value; // a reset counts from zero
          value = (increase * spec.intervalMs) / (tsMs - prev[0]);
        }
        const seriesKey = `${account}\u0000${metric}`;
        const first = taken.get(seriesKey);
        if (first !== undefined) {
          const differing = Object.keys(s.labels).filter((l) => l !== spec.accountLabel && !spec.suffixLabels.includes(l));
          rejects.push({
            origin,
            code: 'duplicate_series',
            reason: `${sampleId(s)} maps to ${account}/${metric} like ${first}${differing.length > 0 ? ` (add one of ${differing.join(', ')} to suffix_labels, or leave the metric out of include)` : ''}`,
          });
          continue;
        }
        taken.set(seriesKey, origin);
        points.push({ account, metric, tsMs, value });
        origins.push(origin);
      }
    });
    if (warnings.length === results.length) throw new Error(`every target failed: ${warnings.join('; ')}`);
    yield { points, origins, rejects, skipped, cursor: next, more: false, warnings };
  }

  return { spec, pages, close: async () => undefined };
}
