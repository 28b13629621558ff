/**
 * `forewarn import FILE`: batch backfill of a CSV (account,metric,ts,value), NDJSON (one
 * /api/telemetry item per line) or line-protocol (.lp/.txt) file, optionally gzipped, into the
 * configured data folder through the same ingest service as live telemetry (admission, storage,
 * detection, advice). A progress bar goes to stderr; the summary, with the rejected rows and their
 * line numbers, to stdout. Every point needs its event time: a row without one is rejected rather
 * than stamped with the import's wall clock. Stop the server on the same data folder first.
 */
import fs from 'node:fs';
import readline from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { createForewarn } from '../app.ts';
import { loadRules } from '../config/load-rules.ts';
import { loadServerConfig } from '../config/server-config.ts';
import type { Point } from '../domain/types.ts';
import type { IngestService } from '../ingest/ingest-service.ts';
import { parseJsonTelemetry } from '../ingest/json-telemetry.ts';
import { parseLineProtocol, type Precision } from '../ingest/line-protocol.ts';
import { csvLayout, parseCsvRow } from '../ingest/csv.ts';

/** The file formats `forewarn import` reads. */
export type ImportFormat = 'csv' | 'ndjson' | 'lp';

/** One rejected row. */
export interface ImportReject {
  /** 1-based line of the file */
  line: number;
  code: string;
  reason: string;
}

/** What an import did. */
export interface ImportSummary {
  format: ImportFormat;
  lines: number;
  accepted: number;
  rejected: number;
  /** rejects in line order (the first `maxRejectsKept`) */
  rejects: ImportReject[];
  byReason: Record<string, number>;
  newAccounts: string[];
  oldestMs?: number;
  newestMs?: number;
}

/** Options of `importStream`. */
export interface ImportStreamOptions {
  format: ImportFormat;
  /** line protocol timestamp precision (default ns) */
  precision?: Precision;
  /** line protocol tag holding the account (default `account`) */
  accountTag?: string;
  /** points per ingest batch (default 20,000) */
  batchPoints?: number;
  /** rejects kept in the summary (default 10,000; all are counted) */
  maxRejectsKept?: number;
  /** event time for line-protocol lines and items without one (default: none, they are rejected) */
  defaultTimeMs?: number;
  /** called after each batch with the lines read so far */
  onBatch?: (lines: number, accepted: number) => void;
}

/** The format of a file from its name (`.gz` is looked through), or undefined. */
export function formatOf(file: string): ImportFormat | undefined {
  const name = file.toLowerCase().replace(/\.gz$/, '');
  if (name.endsWith('.csv')) return 'csv';
  if (name.endsWith('.ndjson') || name.endsWith('.jsonl')) return 'ndjson';
  if (name.endsWith('.lp') || name.endsWith('.txt') || name.endsWith('.line')) return 'lp';
  return undefined;
}

/** The code of a `parseCsvRow` reason. */
function csvCode(reason: string): string {
  if (reason.startsWith('empty account')) return 'missing_account';
  if (reason.startsWith('empty metric')) return 'missing_metric';
  if (reason.startsWith('invalid timestamp')) return 'bad_timestamp';
  if (reason.startsWith('invalid value')) return 'bad_value';
  return 'syntax';
}

const NO_TIME = 'no timestamp (an import needs the event time of every point)';

/**
 * Reads `input` line by line in `format` and feeds it to `ingest` in batches; never throws on bad
 * rows (they are counted and kept with their line), only on a failing store or an unreadable CSV
 * header.
 */
export async function importStream(
  input: Readable,
  ingest: Pick<IngestService, 'ingest'>,
  options: ImportStreamOptions,
): Promise<ImportSummary> {
  const { format } = options;
  const batchPoints = options.batchPoints ?? 20_000;
  const maxKept = options.maxRejectsKept ?? 10_000;
  const summary: ImportSummary = { format, lines: 0, accepted: 0, rejected: 0, rejects: [], byReason: {}, newAccounts: [] };
  const reject = (line: number, code: string, reason: string) => {
    summary.rejected += 1;
    summary.byReason[code] = (summary.byReason[code] ?? 0) + 1;
    if (summary.rejects.length < maxKept) summary.rejects.push({ line, code, reason });
  };

  let points: Point[] = [];
  let lines: number[] = [];
  /** raw text of the pending line-protocol / ndjson lines, with the file line of the first */
  let pending: string[] = [];
  let pendingStart = 1;
  let layout: ReturnType<typeof csvLayout> | undefined;

  // the last line rejected for having no event time (the kept rejects list may be full)
  let lastNoTimeLine = -1;
  const add = (p: Point, line: number) => {
    if (!Number.isFinite(p.tsMs)) {
      // one reject per line, even when a line-protocol line holds several fields
      if (line !== lastNoTimeLine) {
        lastNoTimeLine = line;
        reject(line, 'bad_timestamp', NO_TIME);
      }
      return;
    }
    points.push(p);
    lines.push(line);
  };

  const parsePending = () => {
    if (pending.length === 0) return;
    if (format === 'lp') {
      const parsed = parseLineProtocol(pending.join('\n'), {
        precision: options.precision ?? 'ns',
        accountTag: options.accountTag ?? 'account',
        defaultTimeMs: options.defaultTimeMs ?? NaN,
      });
      for (const e of parsed.errors) reject(e.line + pendingStart - 1, e.code, e.reason);
      parsed.points.forEach((p, i) => add(p, (parsed.lines[i] ?? 1) + pendingStart - 1));
    } else {
      const items: unknown[] = [];
      const itemLines: number[] = [];
      pending.forEach((text, i) => {
        const line = pendingStart + i;
        if (text.trim() === '') return;
        try {
          items.push(JSON.parse(text));
          itemLines.push(line);
        } catch (err) {
          reject(line, 'syntax', `not valid json: ${(err as Error).message}`);
        }
      });
      const parsed = parseJsonTelemetry(items, { defaultTimeMs: options.defaultTimeMs ?? NaN });
      // reasons start "item N: ..."; in a file the line number says it better
      for (const e of parsed.errors) reject(itemLines[e.line - 1] ?? 0, e.code, e.reason.replace(/^item \d+: /, ''));
      parsed.points.forEach((p, i) => add(p, itemLines[(parsed.lines[i] ?? 1) - 1] ?? 0));
    }
    pending = [];
  };

  const flush = async () => {
    parsePending();
    if (points.length === 0) return;
    const result = await ingest.ingest(points, 'import', lines);
    summary.accepted += result.accepted;
    summary.newAccounts.push(...result.newAccounts);
    const refused = new Set(result.rejected.map((r) => r.line));
    for (const r of result.rejected) reject(r.line, String(r.code), r.reason);
    points.forEach((p, i) => {
      if (refused.has(lines[i]!)) return;
      if (summary.oldestMs === undefined || p.tsMs < summary.oldestMs) summary.oldestMs = p.tsMs;
      if (summary.newestMs === undefined || p.tsMs > summary.newestMs) summary.newestMs = p.tsMs;
    });
    points = [];
    lines = [];
    options.onBatch?.(summary.lines, summary.accepted);
  };

  const rl = readline.createInterface({ input, crlfDelay: Infinity });
  try {
    for await (const text of rl) {
      summary.lines += 1;
      const lineNo = summary.lines;
      if (format === 'csv') {
        if (layout === undefined) {
          layout = csvLayout(text.replace(/^\uFEFF/, ''));
          if (typeof layout === 'string') throw new ImportError(`line 1: ${layout}`);
          continue;
        }
        if (text.trim() === '') continue;
        const p = parseCsvRow(text.split(','), layout as Exclude<typeof layout, string>);
        if (typeof p === 'string') reject(lineNo, csvCode(p), p);
        else add(p, lineNo);
        if (points.length >= batchPoints) await flush();
      } else {
        if (pending.length === 0) pendingStart = lineNo;
        pending.push(text);
        // a line-protocol line has a few fields at most: parse in chunks of lines, ingest by points
        if (pending.length >= batchPoints) {
          parsePending();
          if (points.length >= batchPoints) await flush();
        }
      }
    }
    await flush();
  } finally {
    rl.close();
  }
  summary.rejects.sort((a, b) => a.line - b.line);
  return summary;
}

/** A problem with the file as a whole (not one row). */
export class ImportError extends Error {
  override readonly name = 'ImportError';
}

/** Options of `importFile`. */
export interface ImportFileOptions {
  file: string;
  rulesDir: string;
  /** server settings come from this environment (FOREWARN_DATA_DIR, FOREWARN_STORE, ...) */
  env: Record<string, string | undefined>;
  /** overrides the format guessed from the file name */
  format?: ImportFormat;
  precision: Precision;
  /** also write every rejected row to this CSV file (line,code,reason) */
  rejectsFile?: string;
  stdout: Writable;
  stderr: Writable & { isTTY?: boolean };
}

/** How many rejected rows the summary lists. */
export const LISTED_REJECTS = 20;

/** Runs `forewarn import`; returns the exit code (0 all imported, 1 some rows rejected, 2 the file or arguments are wrong). */
export async function importFile(options: ImportFileOptions): Promise<number> {
  const { file, stdout, stderr } = options;
  const fail = (message: string) => {
    stderr.write(`forewarn import: ${message}\n`);
    return 2;
  };
  if (!fs.existsSync(file) || !fs.statSync(file).isFile()) return fail(`file not found: ${file}`);
  const format = options.format ?? formatOf(file);
  if (!format)
    return fail(
      `cannot tell the format of ${file} from its name (.csv, .ndjson/.jsonl, .lp/.txt; optionally .gz): use --format csv|ndjson|lp`,
    );

  const config = loadServerConfig(options.env);
  // pull sources are the server's business: an import must not build (or need the settings of) them
  const rules = { ...loadRules(options.rulesDir), sources: [] };
  const fw = await createForewarn({ config, rules });
  const totalBytes = fs.statSync(file).size;
  let readBytes = 0;
  const raw = fs.createReadStream(file);
  raw.on('data', (chunk) => {
    readBytes += chunk.length;
  });
  const input: Readable = file.toLowerCase().endsWith('.gz') ? raw.pipe(createGunzip()) : raw;
  const bar = progressBar(stderr, totalBytes);
  const started = performance.now();
  const signalsBefore = fw.state.listSignals({ limit: 1_000_000 }).length;
  const advisoriesBefore = fw.state.listAdvisories({ limit: 1_000_000 }).length;
  let summary: ImportSummary;
  let signalsOpened = 0;
  let advisoriesQueued = 0;
  try {
    summary = await importStream(input, fw.ingest, {
      format,
      precision: options.precision,
      accountTag: config.accountTag,
      ...(options.rejectsFile ? { maxRejectsKept: Number.MAX_SAFE_INTEGER } : {}),
      onBatch: (_lines, accepted) => bar.update(readBytes, accepted),
    });
    bar.done(totalBytes, summary.accepted);
    fw.checkpoint();
    signalsOpened = fw.state.listSignals({ limit: 1_000_000 }).length - signalsBefore;
    advisoriesQueued = fw.state.listAdvisories({ limit: 1_000_000 }).length - advisoriesBefore;
  } catch (err) {
    bar.done(readBytes, 0);
    if (err instanceof ImportError) return fail(`${file}: ${err.message}`);
    throw err;
  } finally {
    raw.destroy();
    await fw.close();
  }
  const secs = (performance.now() - started) / 1000;

  const out = (s = '') => stdout.write(`${s}\n`);
  const n = (x: number) => x.toLocaleString('en-US');
  out(
    `imported ${file} (${format}): ${n(summary.accepted)} points accepted, ${n(summary.rejected)} rejected, ` +
      `${n(summary.lines)} lines in ${secs.toFixed(1)} s (${n(Math.round(summary.accepted / Math.max(secs, 1e-3)))} points/s)`,
  );
  if (summary.rejected > 0) {
    out('rejected rows:');
    for (const r of summary.rejects.slice(0, LISTED_REJECTS)) out(`  line ${r.line}: ${r.code}: ${r.reason}`);
    if (summary.rejected > LISTED_REJECTS)
      out(
        `  ... and ${n(summary.rejected - LISTED_REJECTS)} more${options.rejectsFile ? ` (all in ${options.rejectsFile})` : ' (--rejects FILE writes them all)'}`,
      );
    out(
      `rejected by reason: ${Object.entries(summary.byReason)
        .sort((a, b) => b[1] - a[1])
        .map(([k, v]) => `${k} ${n(v)}`)
        .join(', ')}`,
    );
  }
  if (summary.oldestMs !== undefined && summary.newestMs !== undefined) {
    out(`event time: ${new Date(summary.oldestMs).toISOString()} .. ${new Date(summary.newestMs).toISOString()}`);
    const horizon = Date.now() - config.retentionMs;
    if (summary.oldestMs < horizon) {
      out(
        `note: points before ${new Date(horizon).toISOString()} are older than the retention (FOREWARN_RETENTION_DAYS=${config.retentionMs / 86_400_000}) and will be deleted by the server's retention`,
      );
    }
  }
  out(
    `new accounts: ${n(summary.newAccounts.length)}${summary.newAccounts.length > 0 ? ` (${summary.newAccounts.slice(0, 10).join(', ')}${summary.newAccounts.length > 10 ? ', ...' : ''})` : ''}`,
  );
  out(`signals opened: ${n(signalsOpened)}; advisories queued: ${n(advisoriesQueued)} (the server's outbox sends them)`);
  out(`data folder: ${config.dataDir}`);
  if (options.rejectsFile) {
    fs.writeFileSync(
      options.rejectsFile,
      `line,code,reason\n${summary.rejects.map((r) => `${r.line},${r.code},"${r.reason.replaceAll('"', '""')}"`).join('\n')}\n`,
    );
  }
  return summary.rejected > 0 ? 1 : 0;
}

/** The progress bar: redrawn in place on a terminal, a line per 10% otherwise. */
function progressBar(stream: Writable & { isTTY?: boolean }, totalBytes: number) {
  const tty = stream.isTTY === true;
  let lastDraw = 0;
  let lastDecile = -1;
  const render = (bytes: number, points: number) => {
    const frac = totalBytes > 0 ? Math.min(1, bytes / totalBytes) : 1;
    const width = 30;
    const filled = Math.round(frac * width);
    return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${(frac * 100).toFixed(0).padStart(3)}% ${mb(bytes)}/${mb(totalBytes)} MB, ${points.toLocaleString('en-US')} points`;
  };
  return {
    update(bytes: number, points: number) {
      if (tty) {
        const now = performance.now();
        if (now - lastDraw < 100) return;
        lastDraw = now;
        stream.write(`\r${render(bytes, points)}`);
      } else {
        const decile = Math.floor((totalBytes > 0 ? bytes / totalBytes : 1) * 10);
        if (decile <= lastDecile) return;
        lastDecile = decile;
        stream.write(`${render(bytes, points)}\n`);
      }
    },
    done(bytes: number, points: number) {
      if (tty) stream.write(`\r${render(bytes, points)}\n`);
      else if (lastDecile < 10) stream.write(`${render(bytes, points)}\n`);
    },
  };
}

function mb(bytes: number): string {
  return (bytes / 1_048_576).toFixed(1);
}
