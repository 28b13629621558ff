/**
 * `forewarn replay`: a file through the whole pipeline offline; the summary lists what was
 * accepted and rejected (with line numbers); lines without a timestamp take the replay's time; a
 * CSV without the needed columns stops the replay with exit code 2.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { RULES_DIR } from '../../test/fixtures/bundle.ts';
import { replayFile } from './replay.ts';

const dirs: string[] = [];
afterEach(() => {
  vi.restoreAllMocks();
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

async function replay(name: string, body: string) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'forewarn-replay-'));
  dirs.push(dir);
  const file = path.join(dir, name);
  fs.writeFileSync(file, body);
  let out = '';
  let err = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((s) => ((out += String(s)), true));
  vi.spyOn(process.stderr, 'write').mockImplementation((s) => ((err += String(s)), true));
  const code = await replayFile({ file, rulesDir: RULES_DIR, dataDir: path.join(dir, 'data'), precision: 's' });
  vi.restoreAllMocks();
  return { code, out, err, dir };
}

describe('forewarn replay', () => {
  it('feeds line protocol through the pipeline and lists rejected lines with their number', async () => {
    const t = Math.floor(Date.now() / 1000) - 3600;
    const r = await replay(
      'a.lp',
      [
        `api,account=acme latency_p95_ms=200 ${t}`,
        `api latency_p95_ms=1 ${t}`,
        `api,account=acme latency_p95_ms=210 ${t + 300}`,
        'api,account=acme requests=5i',
      ].join('\n'),
    );
    expect(r.code).toBe(0);
    // the last line has no timestamp: it takes the time of the replay instead of being refused
    expect(r.out).toContain('3 points accepted, 1 rejected');
    expect(r.out).toMatch(/rejected line 2: .*account/);
    expect(r.out).toContain('accounts: 7'); // the 6 seed accounts and acme, seen in telemetry
    expect(fs.existsSync(path.join(r.dir, 'data', 'timeseries.db'))).toBe(true);
  });

  it('a CSV without the needed columns stops with exit code 2 and says what is missing', async () => {
    const r = await replay('b.csv', 'account,metric,when,value\nacme,m,1,2\n');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/line 1: .*missing: ts/);
  });
});
