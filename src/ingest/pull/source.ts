/**
 * The pull source interface: one implementation per kind (sql, prometheus, http_json), each
 * reading from its cursor and yielding pages of points. The scheduler ingests a page, then
 * persists the cursor the page carries, then asks for the next page - so a crash or a failed
 * write never moves the cursor past points that were not stored.
 */
import type { SourceSpec } from '../../config/types.ts';
import type { Clock } from '../../domain/clock.ts';
import type { Point } from '../../domain/types.ts';

/** A row, item or sample a source could not turn into a point. */
export interface PullReject {
  /** where it came from, e.g. `row id=42`, `items[3]`, `http://host/metrics line 17` */
  origin: string;
  code: string;
  reason: string;
}

/** One page of a pull. */
export interface PullPage {
  points: Point[];
  /** `origins[i]` says where `points[i]` came from, for admission rejects */
  origins: string[];
  rejects: PullReject[];
  /** rows already pulled before (boundary re-reads), skipped on purpose */
  skipped: number;
  /** the cursor after this page: JSON-serialisable, persisted once the page is stored */
  cursor: unknown;
  /** more data is waiting than this pull read: pull again at once */
  more: boolean;
  /** problems that did not stop the pull (e.g. one of several scrape targets failed) */
  warnings: string[];
}

/** A source of one kind, built from its spec. */
export interface PullSource {
  readonly spec: SourceSpec;
  /**
   * Reads from `cursor` (undefined: never pulled) and yields pages. Throws on source failures
   * (connection, HTTP status, a query error), never on bad rows. Stops early when `signal` aborts.
   */
  pages(cursor: unknown, signal: AbortSignal): AsyncGenerator<PullPage, void, void>;
  /** closes connections */
  close(): Promise<void>;
}

/** What a source needs from its surroundings. */
export interface PullContext {
  clock: Clock;
  /** environment for `url_env` and `headers_env`, read once when the source is created */
  env: Readonly<Record<string, string | undefined>>;
}

/** Reads environment variable `name` for `what` of source `source`, or throws naming it. */
export function requireEnv(ctx: PullContext, source: string, name: string, what: string): string {
  const v = ctx.env[name];
  if (v === undefined || v.trim() === '') {
    throw new Error(`source "${source}": environment variable ${name} (${what}) is not set`);
  }
  return v;
}

/** The headers of `headers` plus those read from the environment (`headers_env`). */
export function resolveHeaders(
  ctx: PullContext,
  source: string,
  fixed: Readonly<Record<string, string>>,
  fromEnv: Readonly<Record<string, string>>,
): Record<string, string> {
  const out: Record<string, string> = { ...fixed };
  for (const [header, name] of Object.entries(fromEnv)) out[header] = requireEnv(ctx, source, name, `header ${header}`);
  return out;
}

/** A short description of an error for status and logs, including its cause. */
export function errorText(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  let text = err.message;
  const cause = (err as { cause?: unknown }).cause;
  if (cause instanceof Error && !text.includes(cause.message)) text += `: ${cause.message}`;
  else if (cause !== undefined && !(cause instanceof Error)) text += `: ${String(cause)}`;
  return text;
}
