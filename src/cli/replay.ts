/**
 * `forewarn replay FILE`: feeds a line-protocol or CSV file through the whole pipeline offline
 * (admission, store, detection, advice, outbox) in event time, then prints a summary. Emails go
 * to .eml files under the data folder unless SMTP_URL is set.
 */
import fs from 'node:fs';
import { createForewarn } from '../app.ts';
import { loadRules } from '../config/load-rules.ts';
import { loadServerConfig } from '../config/server-config.ts';
import type { Precision } from '../ingest/line-protocol.ts';
import { table } from '../demo/table.ts';
import { ImportError, importStream, type ImportSummary } from './import.ts';

export interface ReplayOptions {
  file: string;
  rulesDir: string;
  dataDir: string;
  precision: Precision;
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
  const started = performance.now();
  try {
    let summary: ImportSummary;
    try {
      // the same reader as `forewarn import`; lines without a timestamp take the time of the replay
      summary = await importStream(fs.createReadStream(options.file, 'utf8'), fw.ingest, {
        format: options.file.toLowerCase().endsWith('.csv') ? 'csv' : 'lp',
        precision: options.precision,
        accountTag: config.accountTag,
        defaultTimeMs: Date.now(),
        maxRejectsKept: 20,
      });
    } catch (err) {
      if (!(err instanceof ImportError)) throw err;
      process.stderr.write(`forewarn replay: ${options.file}: ${err.message}\n`);
      return 2;
    }
    for (let i = 0; i < 100 && fw.state.outboxDepth() > 0; i++) await fw.outbox.drainOnce();
    fw.checkpoint();
    const secs = (performance.now() - started) / 1000;
    const signals = fw.state.listSignals({ limit: 100_000 });
    const advisories = fw.state.listAdvisories({ limit: 100_000 });
    const tickets = fw.state.listTickets({ limit: 100_000 });
    const out = (s = '') => process.stdout.write(`${s}\n`);
    out(
      `replayed ${options.file}: ${summary.accepted.toLocaleString('en-US')} points accepted, ${summary.rejected} rejected, in ${secs.toFixed(1)} s`,
    );
    for (const r of summary.rejects) out(`  rejected line ${r.line}: ${r.reason}`);
    if (summary.rejected > summary.rejects.length) out(`  ... and ${summary.rejected - summary.rejects.length} more`);
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
    await fw.close();
  }
}
