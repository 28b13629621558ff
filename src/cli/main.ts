/**
 * The `forewarn` command line: run (the server), check (validate a rules folder), replay (feed a
 * file through the whole pipeline offline, in event time), import (backfill a file into the data
 * folder), demo (the main job on embedded defaults).
 */
import { parseArgs } from 'node:util';
import { checkRules } from '../config/check.ts';
import { ConfigError } from '../config/errors.ts';
import { EnvError } from '../config/server-config.ts';
import { isPrecision, type Precision } from '../ingest/line-protocol.ts';

const USAGE = `usage: forewarn <command> [options]

commands:
  run                      start the server (settings from environment variables, see README)
  check [DIR]              validate a rules folder (default ./rules) and print what is in it
  replay FILE [options]    feed a line-protocol (.lp/.txt) or CSV file through the full pipeline
                           offline, in event time, and print a summary
      --rules DIR          rules folder (default ./rules)
      --data DIR           data folder (default ./data/replay; emptied first)
      --precision P        line protocol timestamp precision: ns, us, ms, s (default ns)
  import FILE [options]    backfill a CSV (account,metric,ts,value), NDJSON (one /api/telemetry
                           item per line) or line-protocol (.lp/.txt) file, optionally .gz, into
                           the configured data folder through the ingest pipeline
      --rules DIR          rules folder (default $FOREWARN_RULES_DIR or ./rules)
      --data DIR           data folder (default $FOREWARN_DATA_DIR or ./data)
      --format F           csv, ndjson or lp (default: from the file name)
      --precision P        line protocol timestamp precision: ns, us, ms, s (default ns)
      --rejects FILE       also write every rejected row (line,code,reason) to FILE
  demo [options]           generate a fleet with injected incidents, play it through the
                           pipeline and print what Forewarn caught
      --accounts N         number of accounts (default 220)
      --days N             days of history at 5-minute resolution (default 14)
      --data DIR           data folder (default ./data/demo; emptied first)
      --seed N             random seed (default 42)
      --rules DIR          rules folder (default ./rules)
`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'run': {
      const { runServer } = await import('./run.ts');
      return runServer();
    }
    case 'check': {
      const dir = rest[0] ?? process.env.FOREWARN_RULES_DIR ?? './rules';
      const { ok, report } = checkRules(dir);
      process.stdout.write(report.endsWith('\n') ? report : `${report}\n`);
      return ok ? 0 : 1;
    }
    case 'replay': {
      const { values, positionals } = parseArgs({
        args: rest,
        allowPositionals: true,
        options: { rules: { type: 'string' }, data: { type: 'string' }, precision: { type: 'string' } },
      });
      const file = positionals[0];
      if (!file) {
        process.stderr.write(`forewarn replay: missing FILE\n\n${USAGE}`);
        return 2;
      }
      const precision = parsePrecision(values.precision);
      const { replayFile } = await import('./replay.ts');
      return replayFile({ file, rulesDir: values.rules ?? './rules', dataDir: values.data ?? './data/replay', precision });
    }
    case 'import': {
      const { values, positionals } = parseArgs({
        args: rest,
        allowPositionals: true,
        options: {
          rules: { type: 'string' },
          data: { type: 'string' },
          format: { type: 'string' },
          precision: { type: 'string' },
          rejects: { type: 'string' },
        },
      });
      const file = positionals[0];
      if (!file) {
        process.stderr.write(`forewarn import: missing FILE\n\n${USAGE}`);
        return 2;
      }
      if (values.format !== undefined && !['csv', 'ndjson', 'lp'].includes(values.format))
        throw new UsageError(`--format must be csv, ndjson or lp, got "${values.format}"`);
      const precision = parsePrecision(values.precision);
      const { importFile } = await import('./import.ts');
      return importFile({
        file,
        rulesDir: values.rules ?? process.env.FOREWARN_RULES_DIR ?? './rules',
        env: { ...process.env, ...(values.data !== undefined ? { FOREWARN_DATA_DIR: values.data } : {}) },
        ...(values.format !== undefined ? { format: values.format as 'csv' | 'ndjson' | 'lp' } : {}),
        precision,
        ...(values.rejects !== undefined ? { rejectsFile: values.rejects } : {}),
        stdout: process.stdout,
        stderr: process.stderr,
      });
    }
    case 'demo': {
      const { values } = parseArgs({
        args: rest,
        options: {
          accounts: { type: 'string' },
          days: { type: 'string' },
          data: { type: 'string' },
          seed: { type: 'string' },
          rules: { type: 'string' },
        },
      });
      const num = (v: string | undefined, name: string, d: number, min: number) => {
        if (v === undefined) return d;
        const n = Number(v);
        if (!Number.isInteger(n) || n < min) throw new UsageError(`--${name} must be an integer >= ${min}, got "${v}"`);
        return n;
      };
      const { runDemo } = await import('../demo/run-demo.ts');
      return runDemo({
        accounts: num(values.accounts, 'accounts', 220, 8),
        days: num(values.days, 'days', 14, 9),
        seed: num(values.seed, 'seed', 42, 0),
        dataDir: values.data ?? './data/demo',
        rulesDir: values.rules ?? './rules',
      });
    }
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE);
      return command === undefined ? 2 : 0;
    default:
      process.stderr.write(`forewarn: unknown command "${command}"\n\n${USAGE}`);
      return 2;
  }
}

class UsageError extends Error {}

/** `--precision`, checked: ns (default), us, ms or s. */
function parsePrecision(raw: string | undefined): Precision {
  const precision = raw ?? 'ns';
  if (!isPrecision(precision)) throw new UsageError(`--precision must be ns, us, ms or s, got "${precision}"`);
  return precision;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof ConfigError || err instanceof EnvError || err instanceof UsageError) {
      process.stderr.write(`forewarn: ${err instanceof ConfigError ? 'invalid rules:\n' : ''}${String(err.message)}\n`);
      process.exitCode = 2;
      return;
    }
    process.stderr.write(`forewarn: ${(err as Error)?.stack ?? String(err)}\n`);
    process.exitCode = 1;
  },
);
