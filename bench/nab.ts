/**
 * `npm run bench:nab`: scores the engine's own streaming detector on the Numenta Anomaly
 * Benchmark (NAB v1.1, 58 series, 116 labelled windows).
 *
 * Every NAB file is run through one detector made by {@link nabFactory}: the engine's combined
 * detector (`detectorFactoryFor('combined', 'both')`, the factory the engine uses for a metric
 * no rule watches, same code and same constants) reporting its likelihood score
 * (`output: 'likelihood'`, the stage whose squashed value the engine's score includes), behind
 * the onset filter (onset.ts: one detection per incident, which the engine gets from its signal
 * episodes instead). One configuration for the whole corpus; one pass per file, in row order, no
 * labels, no look-ahead, no per-file parameters. The anomaly score of each row goes
 * to a result CSV in a temporary folder; `../shared/bench/nab-score.mjs` scores the folder and
 * this script prints its last line (`NAB standard=.. low_fp=.. low_fn=..`).
 *
 *   npm run bench:nab                    the scores
 *   npm run bench:nab -- --verbose       the scorer's whole report (TP/FN/FP per profile)
 *   npm run bench:nab -- --sensitivity   the scores again with each tuning constant at -20% / +20%
 *   npm run bench:nab -- --keep DIR      writes the result CSVs to DIR and keeps them
 *
 * The corpus is read at run time from `../shared/nab` beside the repository (never copied into
 * it); NAB_DIR overrides that folder and NAB_SCORER the scorer script.
 *
 * NAB timestamps carry no time zone; they are read as UTC. Nothing else about a file is known to
 * the detector: no seasonality, no sampling interval, no scale.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { detectorFactoryFor } from '../src/detect/combined.ts';
import type { DetectorTuning } from '../src/detect/combined.ts';
import type { DetectorFactory } from '../src/detect/detector.ts';
import { onsetFactory } from '../src/detect/onset.ts';
import type { OnsetOptions } from '../src/detect/onset.ts';
import { SENSITIVITY_KNOBS } from '../src/detect/tuning.ts';

/** The detector the NAB bench scores: see the module comment. `tuning` is for the sensitivity table only. */
export function nabFactory(tuning: DetectorTuning = {}, onset: OnsetOptions = {}): DetectorFactory {
  return onsetFactory(detectorFactoryFor('combined', 'both', { ...tuning, output: 'likelihood' }), onset);
}

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '..');
export const NAB_DIR = path.resolve(process.env.NAB_DIR ?? path.join(ROOT, '..', 'shared', 'nab'));
const SCORER = path.resolve(process.env.NAB_SCORER ?? path.join(ROOT, '..', 'shared', 'bench', 'nab-score.mjs'));

/** One NAB data file, parsed. */
export interface NabFile {
  /** `<category>/<name>.csv` */
  rel: string;
  /** the timestamp column as written (copied to the result verbatim) */
  stamps: string[];
  tsMs: Float64Array;
  values: Float64Array;
}

/** NAB's `YYYY-MM-DD HH:MM:SS`, read as UTC (the corpus has no time zone). */
function parseStamp(s: string, where: string): number {
  const ms = Date.parse(`${s.trim().replace(' ', 'T')}Z`);
  if (!Number.isFinite(ms)) throw new Error(`bad timestamp "${s}" in ${where}`);
  return ms;
}

export function loadCorpus(dataDir: string): NabFile[] {
  if (!fs.existsSync(dataDir)) {
    throw new Error(`NAB corpus not found at ${dataDir}: put shared/nab beside the repository or set NAB_DIR`);
  }
  const files: NabFile[] = [];
  for (const category of fs.readdirSync(dataDir).sort()) {
    const dir = path.join(dataDir, category);
    if (!fs.statSync(dir).isDirectory()) continue;
    for (const name of fs.readdirSync(dir).sort()) {
      if (!name.endsWith('.csv')) continue;
      const rel = `${category}/${name}`;
      const lines = fs
        .readFileSync(path.join(dir, name), 'utf8')
        .split(/\r?\n/)
        .filter((l) => l.length > 0);
      const header = (lines[0] ?? '').split(',');
      const ti = header.indexOf('timestamp');
      const vi = header.indexOf('value');
      if (ti < 0 || vi < 0) throw new Error(`${rel}: expected columns timestamp,value, got ${lines[0] ?? 'nothing'}`);
      const n = lines.length - 1;
      const f: NabFile = { rel, stamps: new Array<string>(n), tsMs: new Float64Array(n), values: new Float64Array(n) };
      for (let i = 0; i < n; i++) {
        const cols = (lines[i + 1] as string).split(',');
        const stamp = cols[ti] ?? '';
        f.stamps[i] = stamp;
        f.tsMs[i] = parseStamp(stamp, `${rel} row ${i + 2}`);
        f.values[i] = Number(cols[vi]);
      }
      files.push(f);
    }
  }
  return files;
}

/** Runs one fresh detector per file, in row order; returns the scores and the ns spent per point. */
function detect(corpus: readonly NabFile[], factory: DetectorFactory): { scores: Float64Array[]; nsPerPoint: number } {
  const scores: Float64Array[] = [];
  let points = 0;
  const t0 = process.hrtime.bigint();
  for (const f of corpus) {
    const det = factory.create();
    const out = new Float64Array(f.values.length);
    for (let i = 0; i < out.length; i++) out[i] = det.update(f.tsMs[i] as number, f.values[i] as number).score;
    points += out.length;
    scores.push(out);
  }
  const ns = Number(process.hrtime.bigint() - t0);
  return { scores, nsPerPoint: ns / points };
}

export function writeResults(dir: string, corpus: readonly NabFile[], scores: readonly Float64Array[]): void {
  corpus.forEach((f, k) => {
    const s = scores[k] as Float64Array;
    const parts: string[] = ['timestamp,anomaly_score'];
    // full precision: the scorer thresholds on exact values
    for (let i = 0; i < s.length; i++) parts.push(`${f.stamps[i] as string},${String(s[i])}`);
    const file = path.join(dir, f.rel);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, parts.join('\n') + '\n');
  });
}

function scorerArgs(dir: string, extra: string[]): string[] {
  const args = [SCORER, '--results', dir, ...extra];
  if (process.env.NAB_DIR !== undefined) {
    args.push('--data', path.join(NAB_DIR, 'data'), '--labels', path.join(NAB_DIR, 'labels', 'combined_windows.json'));
    args.push('--profiles', path.join(NAB_DIR, 'config', 'profiles.json'));
  }
  return args;
}

/** Normalised scores of one run. */
export interface NabScores {
  standard: number;
  low_fp: number;
  low_fn: number;
}

export function scoreJson(dir: string): NabScores {
  const out = execFileSync(process.execPath, scorerArgs(dir, ['--json']), { encoding: 'utf8', maxBuffer: 1 << 26 });
  const j = JSON.parse(out) as { profiles: Record<string, { score: number }> };
  const p = (name: string) => j.profiles[name]?.score ?? NaN;
  return { standard: p('standard'), low_fp: p('reward_low_FP_rate'), low_fn: p('reward_low_FN_rate') };
}

function runOnce(corpus: readonly NabFile[], factory: DetectorFactory, dir: string): NabScores & { nsPerPoint: number } {
  const { scores, nsPerPoint } = detect(corpus, factory);
  writeResults(dir, corpus, scores);
  return { ...scoreJson(dir), nsPerPoint };
}

const f2 = (x: number) => x.toFixed(2);

function main(): number {
  const argv = process.argv.slice(2);
  const keepAt = argv.indexOf('--keep');
  const keepDir = keepAt >= 0 ? argv[keepAt + 1] : undefined;
  if (keepAt >= 0 && keepDir === undefined) throw new Error('--keep needs a folder');
  const t0 = Date.now();
  if (!fs.existsSync(SCORER)) {
    throw new Error(`NAB scorer not found at ${SCORER}: put shared/bench beside the repository or set NAB_SCORER`);
  }
  const corpus = loadCorpus(path.join(NAB_DIR, 'data'));
  const dir = keepDir !== undefined ? path.resolve(keepDir) : fs.mkdtempSync(path.join(os.tmpdir(), 'forewarn-nab-'));
  fs.mkdirSync(dir, { recursive: true });
  try {
    const { scores, nsPerPoint } = detect(corpus, nabFactory());
    writeResults(dir, corpus, scores);
    const points = scores.reduce((a, s) => a + s.length, 0);
    const report = execFileSync(process.execPath, scorerArgs(dir, []), { encoding: 'utf8' }).trimEnd().split('\n');
    if (argv.includes('--verbose')) console.log(report.slice(0, -1).join('\n'));
    console.log(
      `detector: combined (engine defaults, likelihood output, onset filter), ${corpus.length} files, ${points} points, ${nsPerPoint.toFixed(0)} ns/point`,
    );

    if (argv.includes('--sensitivity')) {
      const base = scoreJson(dir);
      const sub = path.join(dir, 'sensitivity');
      console.log('\nsensitivity: NAB score change when one tuning constant moves -20% / +20% (all others fixed)');
      console.log(
        `${'constant'.padEnd(34)} ${'default'.padStart(9)}  ${'standard'.padStart(15)}  ${'low_fp'.padStart(15)}  ${'low_fn'.padStart(15)}`,
      );
      let worst = 0;
      for (const knob of SENSITIVITY_KNOBS) {
        const cells: string[] = [];
        const runs = [0.8, 1.2].map((factor) => {
          fs.rmSync(sub, { recursive: true, force: true });
          const k = knob.tuning(factor);
          return runOnce(corpus, nabFactory(k.detector, k.onset), sub);
        });
        for (const key of ['standard', 'low_fp', 'low_fn'] as const) {
          const d = runs.map((r) => r[key] - base[key]);
          for (const x of d) worst = Math.max(worst, Math.abs(x));
          cells.push(
            d
              .map((x) => (x >= 0 ? '+' : '') + f2(x))
              .join(' ')
              .padStart(15),
          );
        }
        console.log(`${knob.name.padEnd(34)} ${String(knob.value).padStart(9)}  ${cells.join('  ')}`);
      }
      fs.rmSync(sub, { recursive: true, force: true });
      console.log(
        `largest change: ${f2(worst)} points (base standard=${f2(base.standard)} low_fp=${f2(base.low_fp)} low_fn=${f2(base.low_fn)})`,
      );
    }
    console.log(`(${((Date.now() - t0) / 1000).toFixed(1)} s${keepDir !== undefined ? `; results kept in ${dir}` : ''})`);
    console.log(report[report.length - 1]);
    return 0;
  } finally {
    if (keepDir === undefined) fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    process.exitCode = main();
  } catch (err) {
    // a missing corpus or scorer is a setup problem: say what and where, without a stack trace
    console.error(`bench:nab: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 2;
  }
}
