/**
 * `forewarn import`: each format read into points with the file's line numbers, rejected rows
 * (parse and admission) listed with their line and reason, rows without an event time refused,
 * batches, gzip; then a whole import into a data folder that a restarted app reads back, with the
 * summary on stdout, the progress bar on stderr and the exit codes.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable, Writable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { createForewarn } from '../app.ts';
import { loadRules } from '../config/load-rules.ts';
import { loadServerConfig } from '../config/server-config.ts';
import type { Point } from '../domain/types.ts';
import type { IngestResult, IngestService } from '../ingest/ingest-service.ts';
import { RULES_DIR } from '../../test/fixtures/bundle.ts';
import { formatOf, importFile, importStream, type ImportFormat } from './import.ts';

const T = Date.UTC(2024, 2, 7, 10, 0, 0);
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

/** An ingest that records batches and refuses points of account "refused" (as admission would). */
function recorder() {
  const batches: Array<{ points: Point[]; lines: number[] }> = [];
  const ingest: Pick<IngestService, 'ingest'> = {
    async ingest(points, _source, lines): Promise<IngestResult> {
      const ls = Array.from(lines ?? [], Number);
      batches.push({ points: [...points], lines: ls });
      const rejected = points.flatMap((p, i) =>
        p.account === 'refused' ? [{ line: ls[i]!, code: 'unknown_account', reason: 'unknown account "refused"' }] : [],
      );
      return { accepted: points.length - rejected.length, rejected, newAccounts: [] };
    },
  };
  return { batches, ingest };
}

const CSV = [
  'account,metric,ts,value',
  `acme,api_calls,${T},1`,
  'acme,api_calls,yesterday,2',
  '',
  `refused,api_calls,${T},3`,
  `,api_calls,${T},4`,
  `acme,latency_ms,2024-03-07T10:01:00Z,5`,
].join('\n');
const NDJSON = [
  JSON.stringify({ account: 'acme', metric: 'api_calls', ts: T, value: 1 }),
  JSON.stringify({ account: 'acme', metric: 'api_calls', value: 2 }),
  '{oops',
  '',
  JSON.stringify({ account: 'refused', metric: 'api_calls', ts: '2024-03-07T10:00:00Z', value: 3 }),
  JSON.stringify({ account: 'acme', metric: 'api_calls', ts: T, value: 4, extra: 1 }),
].join('\n');
const LP = [
  `usage,account=acme api_calls=1,errors=2i ${T}`,
  'usage,account=acme api_calls=3',
  '# comment',
  `usage,account=refused api_calls=4 ${T}`,
  'usage api_calls=5 1',
].join('\n');

describe('importStream: each format', () => {
  it.each<[ImportFormat, string, Array<[number, string, number]>, Array<[number, string, RegExp]>]>([
    [
      'csv',
      CSV,
      [
        [2, 'acme/api_calls', 1],
        [7, 'acme/latency_ms', 5],
      ],
      [
        [3, 'bad_timestamp', /invalid timestamp "yesterday"/],
        [5, 'unknown_account', /unknown account "refused"/],
        [6, 'missing_account', /empty account/],
      ],
    ],
    [
      'ndjson',
      NDJSON,
      [[1, 'acme/api_calls', 1]],
      [
        [2, 'bad_timestamp', /no timestamp \(an import needs the event time of every point\)/],
        [3, 'syntax', /not valid json/],
        [5, 'unknown_account', /unknown account/],
        [6, 'syntax', /^unknown key "extra"/],
      ],
    ],
    [
      'lp',
      LP,
      [
        [1, 'acme/usage_api_calls', 1],
        [1, 'acme/usage_errors', 2],
      ],
      [
        [2, 'bad_timestamp', /no timestamp/],
        [4, 'unknown_account', /unknown account/],
        [5, 'missing_account', /account/],
      ],
    ],
  ])('%s', async (format, text, accepted, rejected) => {
    const r = recorder();
    const summary = await importStream(Readable.from([text]), r.ingest, { format, precision: 'ms' });
    const stored = r.batches
      .flatMap((b) => b.points.map((p, i) => [b.lines[i]!, `${p.account}/${p.metric}`, p.value] as [number, string, number]))
      .filter(([, k]) => !k.startsWith('refused'));
    expect(stored).toEqual(accepted);
    expect(summary.accepted).toBe(accepted.length);
    expect(summary.rejected).toBe(rejected.length);
    expect(summary.rejects.map((x) => [x.line, x.code])).toEqual(rejected.map(([l, c]) => [l, c]));
    summary.rejects.forEach((x, i) => expect(x.reason).toMatch(rejected[i]![2]));
  });

  it('a line-protocol line without a timestamp is one reject however many fields, also once the kept list is full', async () => {
    const { ingest } = recorder();
    const body = ['m,account=a x=1,y=2', 'm,account=a x=3,y=4,z=5'].join('\n');
    const summary = await importStream(Readable.from([body]), ingest, { format: 'lp', maxRejectsKept: 1 });
    expect(summary.rejected).toBe(2);
    expect(summary.byReason).toEqual({ bad_timestamp: 2 });
    expect(summary.rejects.map((r) => r.line)).toEqual([1]);
  });

  it('ingests in batches of batchPoints, keeping line numbers across batches', async () => {
    const rows = Array.from({ length: 7 }, (_, i) => `a${i},m,${T + i},${i}`);
    const r = recorder();
    const progress: number[] = [];
    const summary = await importStream(Readable.from([`account,metric,ts,value\n${rows.join('\n')}\n`]), r.ingest, {
      format: 'csv',
      batchPoints: 3,
      onBatch: (lines) => progress.push(lines),
    });
    expect(r.batches.map((b) => b.lines)).toEqual([[2, 3, 4], [5, 6, 7], [8]]);
    expect(progress).toEqual([4, 7, 8]);
    expect(summary).toMatchObject({ lines: 8, accepted: 7, rejected: 0, oldestMs: T, newestMs: T + 6 });
  });

  it('a CSV without the needed columns is an error for the whole file', async () => {
    await expect(importStream(Readable.from(['account,ts,value\nacme,1,2\n']), recorder().ingest, { format: 'csv' })).rejects.toThrow(
      'line 1: CSV header must name the columns account, metric, ts (or time/timestamp), value; missing: metric',
    );
  });

  it.each<[string, ImportFormat | undefined]>([
    ['usage.csv', 'csv'],
    ['usage.CSV.gz', 'csv'],
    ['usage.ndjson', 'ndjson'],
    ['usage.jsonl', 'ndjson'],
    ['usage.lp', 'lp'],
    ['usage.txt.gz', 'lp'],
    ['usage.json', undefined],
  ])('format of %s is %s', (file, want) => {
    expect(formatOf(file)).toBe(want);
  });
});

/** A writable that keeps what it was given. */
function sink(isTTY = false) {
  const chunks: string[] = [];
  const w = new Writable({
    write(chunk, _enc, cb) {
      chunks.push(String(chunk));
      cb();
    },
  }) as Writable & { isTTY?: boolean };
  w.isTTY = isTTY;
  return { w, text: () => chunks.join('') };
}

describe('forewarn import FILE', () => {
  it('backfills a gzipped CSV into the data folder: a restarted app has the points; summary, progress bar, exit 1 for rejects', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'forewarn-import-'));
    dirs.push(dir);
    const file = path.join(dir, 'usage.csv.gz');
    const rows = Array.from({ length: 50 }, (_, i) => `acme,api_calls,${T + i * 60_000},${i}`);
    fs.writeFileSync(file, gzipSync(`account,metric,ts,value\n${rows.join('\n')}\nacme,api_calls,${T},NaN\n`));
    const data = path.join(dir, 'data');
    const env = { FOREWARN_DATA_DIR: data, FOREWARN_SQLITE_SYNC: 'normal' };
    const out = sink();
    const err = sink(true);
    const rejectsFile = path.join(dir, 'rejects.csv');
    const code = await importFile({ file, rulesDir: RULES_DIR, env, precision: 'ms', rejectsFile, stdout: out.w, stderr: err.w });
    expect(code).toBe(1);
    const summary = out.text();
    expect(summary).toMatch(/^imported .*usage\.csv\.gz \(csv\): 50 points accepted, 1 rejected, 52 lines in /);
    expect(summary).toContain('  line 52: bad_value: invalid value "NaN"\n');
    expect(summary).toContain('rejected by reason: bad_value 1\n');
    expect(summary).toContain(`event time: ${new Date(T).toISOString()} .. ${new Date(T + 49 * 60_000).toISOString()}\n`);
    expect(summary).toContain('new accounts: 1 (acme)\n');
    expect(err.text()).toMatch(/\r\[#{30}\] 100% .* 50 points\n$/);
    expect(fs.readFileSync(rejectsFile, 'utf8')).toBe('line,code,reason\n52,bad_value,"invalid value ""NaN"""\n');

    // the points are in the configured data folder
    const fw = await createForewarn({ config: loadServerConfig(env), rules: loadRules(RULES_DIR) });
    try {
      const r = await fw.store.query({ account: 'acme', metric: 'api_calls' }, 0, Number.MAX_SAFE_INTEGER);
      expect(r.values.length).toBe(50);
      expect(r.values[49]).toBe(49);
    } finally {
      await fw.close();
    }
  });

  it.each<[string, string, RegExp]>([
    ['a missing file', 'nope.csv', /^forewarn import: file not found: /],
    ['an unknown extension', 'usage.json', /cannot tell the format of .*usage\.json.*use --format csv\|ndjson\|lp/],
  ])('%s exits 2 with the reason', async (_name, name, message) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'forewarn-import-'));
    dirs.push(dir);
    if (name !== 'nope.csv') fs.writeFileSync(path.join(dir, name), '[]');
    const err = sink();
    const code = await importFile({
      file: path.join(dir, name),
      rulesDir: RULES_DIR,
      env: { FOREWARN_DATA_DIR: path.join(dir, 'data') },
      precision: 'ns',
      stdout: sink().w,
      stderr: err.w,
    });
    expect(code).toBe(2);
    expect(err.text()).toMatch(message);
  });
});
