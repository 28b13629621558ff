/**
 * `forewarn replay FILE`: feeds a line-protocol or CSV file through the whole pipeline offline
 * (admission, store, detection, advice, outbox) in event time, then prints a summary. Emails go
 * to .eml files under the data folder unless SMTP_URL is set.
 */
import fs from 'node:fs';
import readline from 'node:readline';
import { createForewarn } from '../app.ts';
import { loadRules } from '../config/load-rules.ts';
import { loadServerConfig } from '../config/server-config.ts';
import type { Point } from '../domain/types.ts';
import { parseLineProtocol, type Precision } from '../ingest/line-protocol.ts';
import { table } from '../demo/table.ts';

export interface ReplayOptions {
  file: string;
  rulesDir: string;
  dataDir: string;
  precision: Precision;
}

interface CsvLayout {
  account: number;
  metric: number;
  ts: number;
  value: number;
}

/** Parses one CSV row (no quoted fields) into a point, or returns a reason. */
export function parseCsvRow(cells: string[], layout: CsvLayout): Point | string {
  const account = cells[layout.account]?.trim() ?? '';
  const metric = cells[layout.metric]?.trim() ?? '';
  const tsRaw = cells[layout.ts]?.trim() ?? '';
  const valueRaw = cells[layout.value]?.trim() ?? '';
  if (account === '') return 'empty account';
  if (metric === '') return 'empty metric';
  const tsMs = /^\d+(\.\d+)?$/.test(tsRaw) ? Number(tsRaw) : Date.parse(tsRaw);
  if (!Number.isFinite(tsMs)) return `invalid timestamp "${tsRaw}" (ISO 8601 or epoch milliseconds)`;
  const value = valueRaw === '' ? NaN : Number(valueRaw);
  if (!Number.isFinite(value)) return `invalid value "${valueRaw}"`;
  return { account, metric, tsMs, value };
}

/** Reads the CSV header and finds the columns. */
export function csvLayout(header: string): CsvLayout | string {
  const cols = header.split(',').map((c) => c.trim().toLowerCase());
  const find = (...names: string[]) => cols.findIndex((c) => names.includes(c));
  const layout = { account: find('account'), metric: find('metric'), ts: find('ts', 'time', 'timestamp'), value: find('value') };
  const missing = Object.entries(layout)
    .filter(([, i]) => i < 0)
    .map(([k]) => k);
  if (missing.length > 0)
    return `CSV header must name the columns account, metric, ts (or time/timestamp), value; missing: ${missing.join(', ')}`;
  return layout;
}

/** Runs a replay and prints its summary; returns the exit code. */
export async function replayFile(options: ReplayOptions): Promise<number> {
  if (!fs.existsSync(options.file)) {
    process.stderr.write(`forewarn replay: file not found: ${options.file}\n`);
    return 2;
  }
  const rules = loadRules(options.rulesDir);
  fs.rmSync(options.dataDir, { recursive: true, force: true });
  const env = {
    ...process.env,
    FOREWARN_DATA_DIR: options.dataDir,
    FOREWARN_RULES_DIR: options.rulesDir,
    FOREWARN_HOST: '127.0.0.1',
    FOREWARN_SQLITE_SYNC: 'normal',
  };
  const config = { ...loadServerConfig(env), retentionMs: 3650 * 86_400_000 };
  const fw = await createForewarn({ config, rules });
  const isCsv = options.file.toLowerCase().endsWith('.csv');
  const started = performance.now();
  let accepted = 0;
  const rejected: string[] = [];
  let rejectedCount = 0;
  const note = (line: number, reason: string) => {
    rejectedCount += 1;
    if (rejected.length < 20) rejected.push(`line ${line}: ${reason}`);
  };

  const rl = readline.createInterface({ input: fs.createReadStream(options.file, 'utf8'), crlfDelay: Infinity });
  let lineNo = 0;
  let layout: CsvLayout | undefined;
  let chunk: string[] = [];
  let chunkStart = 1;
  let csvPoints: Point[] = [];
  let csvLines: number[] = [];

  const flush = async () => {
    if (isCsv) {
      if (csvPoints.length === 0) return;
      const r = await fw.ingest.ingest(csvPoints, 'replay', csvLines);
      accepted += r.accepted;
      for (const x of r.rejected) note(x.line, x.reason);
      csvPoints = [];
      csvLines = [];
      return;
    }
    if (chunk.length === 0) return;
    const parsed = parseLineProtocol(chunk.join('\n'), {
      precision: options.precision,
      accountTag: config.accountTag,
      defaultTimeMs: Date.now(),
    });
    for (const e of parsed.errors) note(e.line + chunkStart - 1, e.reason);
    const lines = Array.from(parsed.lines, (l) => l + chunkStart - 1);
    const r = await fw.ingest.ingest(parsed.points, 'replay', lines);
    accepted += r.accepted;
    for (const x of r.rejected) note(x.line, x.reason);
    chunk = [];
  };

  try {
    for await (const line of rl) {
      lineNo += 1;
      if (isCsv) {
        if (!layout) {
          const l = csvLayout(line);
          if (typeof l === 'string') {
            process.stderr.write(`forewarn replay: ${options.file}:1: ${l}\n`);
            return 2;
          }
          layout = l;
          continue;
        }
        if (line.trim() === '') continue;
        const p = parseCsvRow(line.split(','), layout);
        if (typeof p === 'string') note(lineNo, p);
        else {
          csvPoints.push(p);
          csvLines.push(lineNo);
        }
        if (csvPoints.length >= 50_000) await flush();
      } else {
        if (chunk.length === 0) chunkStart = lineNo;
        chunk.push(line);
        if (chunk.length >= 20_000) await flush();
      }
    }
    await flush();
    for (let i = 0; i < 100 && fw.state.outboxDepth() > 0; i++) await fw.outbox.drainOnce();
    fw.checkpoint();
    const secs = (performance.now() - started) / 1000;
    const signals = fw.state.listSignals({ limit: 100_000 });
    const advisories = fw.state.listAdvisories({ limit: 100_000 });
    const tickets = fw.state.listTickets({ limit: 100_000 });
    const out = (s = '') => process.stdout.write(`${s}\n`);
    out(
      `replayed ${options.file}: ${accepted.toLocaleString('en-US')} points accepted, ${rejectedCount} rejected, in ${secs.toFixed(1)} s`,
    );
    for (const r of rejected) out(`  rejected ${r}`);
    if (rejectedCount > rejected.length) out(`  ... and ${rejectedCount - rejected.length} more`);
    out(
      `accounts: ${fw.state.listAccounts().length}; signals: ${signals.length} (${signals.filter((s) => s.state === 'open').length} still open)`,
    );
    if (signals.length > 0) {
      out(
        table(
          ['account', 'rule', 'series', 'severity', 'opened (event time)', 'state'],
          signals.map((s) => [s.account, s.rule, s.metric, s.severity, new Date(s.openedAtMs).toISOString(), s.state]),
        ),
      );
    }
    const byKind = new Map<string, number>();
    for (const a of advisories) byKind.set(a.kind, (byKind.get(a.kind) ?? 0) + 1);
    out(`advisories: ${advisories.length}${byKind.size > 0 ? ` (${[...byKind].map(([k, v]) => `${k} ${v}`).join(', ')})` : ''}`);
    out(`tickets: ${tickets.length}${tickets.length > 0 ? ` (${tickets.map((t) => `${t.priority} ${t.queue}`).join(', ')})` : ''}`);
    out(`data folder: ${options.dataDir}`);
    return 0;
  } finally {
    rl.close();
    await fw.close();
  }
}
