/**
 * The simple CSV telemetry format (header naming account, metric, ts|time|timestamp, value; no
 * quoted fields) used by `forewarn replay` and `forewarn import`.
 */
import type { Point } from '../domain/types.ts';

/** Where the columns are. */
export interface CsvLayout {
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
