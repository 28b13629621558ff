/**
 * Strict zod schema of rules/sources.yaml (optional): the pull sources. Same conventions as
 * `schema.ts`: snake_case YAML, unknown keys are errors, checks that fit inside one source are
 * done here (one of url/url_env, one of table/query, the query's parameters, the field mapping),
 * and the output is the camelCase `SourceSpec` of `types.ts` with durations in milliseconds and
 * every default filled in from `SOURCE_DEFAULTS`. Unique source names are checked by the loader.
 *
 * ```yaml
 * sources:
 *   - name: product-usage
 *     kind: sql                      # sql | prometheus | http_json
 *     enabled: false
 *     interval: 1m
 *     url_env: FOREWARN_USAGE_DB_URL
 *     table: usage_daily
 *     cursor: updated_at
 *     key: id
 *     map: { account: account_id, time: day, values: { api_calls: api_calls } }
 * ```
 */
import { ACCOUNT_ID_RULE, isValidAccountId } from '../domain/account-id.ts';
import * as z from 'zod';
import { durationSchema, showValue } from './schema.ts';
import type {
  FieldMapping,
  FieldSource,
  HttpJsonSourceSpec,
  PrometheusSourceSpec,
  ScrapeTarget,
  SourceBackoff,
  SourceKind,
  SourceSpec,
  SqlSourceSpec,
} from './types.ts';

/** Every default of sources.yaml. */
export const SOURCE_DEFAULTS = Object.freeze({
  enabled: true,
  intervalMs: 60_000,
  timeoutMs: 30_000,
  backoff: Object.freeze({ initialMs: 2_000, maxMs: 5 * 60_000 }),
  sqlCursor: 'updated_at',
  sqlKey: 'id',
  batchSize: 1000,
  maxPages: 100,
  settleMs: 0,
  timeUnit: 'ms' as const,
  counters: 'delta' as const,
  honorTimestamps: true,
  cursorFormat: 'iso' as const,
});

/** The kinds of source, for messages. */
export const SOURCE_KINDS: readonly SourceKind[] = ['sql', 'prometheus', 'http_json'];

const NAME_RE = /^[a-z0-9][a-z0-9_-]*$/;
const METRIC_RE = /^[A-Za-z_:][A-Za-z0-9_:.]*$/;
/** a SQL identifier, optionally schema-qualified (`public.usage_daily`) */
const IDENT_RE = /^[A-Za-z_][A-Za-z0-9_$]*(\.[A-Za-z_][A-Za-z0-9_$]*)?$/;
const ENV_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;
const LABEL_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;
const HEADER_RE = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

const nameSchema = z
  .string()
  .regex(NAME_RE, { error: (i) => `invalid name ${showValue(i.input)} (use lower-case letters, digits, - and _)` });
const metricName = z.string().regex(METRIC_RE, { error: (i) => `invalid metric name ${showValue(i.input)} (letters, digits, _, : and .)` });
const accountId = z.string().refine(isValidAccountId, { error: (i) => `invalid account id ${showValue(i.input)} (${ACCOUNT_ID_RULE})` });
const identifier = z
  .string()
  .regex(IDENT_RE, { error: (i) => `invalid sql identifier ${showValue(i.input)} (letters, digits, _ and $, optionally schema.name)` });
const envName = z.string().regex(ENV_RE, { error: (i) => `invalid environment variable name ${showValue(i.input)}` });
const labelName = z.string().regex(LABEL_RE, { error: (i) => `invalid label name ${showValue(i.input)}` });
const fieldPath = z.string().trim().min(1);
const httpUrl = z.string().refine((s) => URL.canParse(s) && ['http:', 'https:'].includes(new URL(s).protocol), {
  error: (i) => `invalid url ${showValue(i.input)} (expected http:// or https://)`,
});
const headerMap = z.record(z.string().regex(HEADER_RE, { error: (i) => `invalid header name ${showValue(i.input)}` }), z.string());
const headerEnvMap = z.record(z.string().regex(HEADER_RE, { error: (i) => `invalid header name ${showValue(i.input)}` }), envName);

const backoffSchema = z
  .strictObject({ initial: durationSchema.optional(), max: durationSchema.optional() })
  .superRefine((b, ctx) => {
    if (b.initial !== undefined && b.initial <= 0)
      ctx.addIssue({ code: 'custom', path: ['initial'], message: 'initial must be longer than 0s' });
    const initial = b.initial ?? SOURCE_DEFAULTS.backoff.initialMs;
    const max = b.max ?? SOURCE_DEFAULTS.backoff.maxMs;
    if (max < initial) ctx.addIssue({ code: 'custom', path: ['max'], message: 'max must not be shorter than initial' });
  })
  .transform((b): SourceBackoff => ({
    initialMs: b.initial ?? SOURCE_DEFAULTS.backoff.initialMs,
    maxMs: b.max ?? SOURCE_DEFAULTS.backoff.maxMs,
  }));

/** The keys every source has. */
const common = {
  name: nameSchema,
  enabled: z.boolean().optional(),
  interval: durationSchema.optional(),
  timeout: durationSchema.optional(),
  backoff: backoffSchema.optional(),
};

type CommonIn = {
  name: string;
  enabled?: boolean | undefined;
  interval?: number | undefined;
  timeout?: number | undefined;
  backoff?: SourceBackoff | undefined;
};

function checkCommon(s: CommonIn, ctx: z.core.$RefinementCtx): void {
  if (s.interval !== undefined && s.interval < 1000)
    ctx.addIssue({ code: 'custom', path: ['interval'], message: 'interval must be at least 1s' });
  if (s.timeout !== undefined && s.timeout < 100)
    ctx.addIssue({ code: 'custom', path: ['timeout'], message: 'timeout must be at least 100ms' });
}

function commonOut(s: CommonIn) {
  return {
    name: s.name,
    enabled: s.enabled ?? SOURCE_DEFAULTS.enabled,
    intervalMs: s.interval ?? SOURCE_DEFAULTS.intervalMs,
    timeoutMs: s.timeout ?? SOURCE_DEFAULTS.timeoutMs,
    backoff: s.backoff ?? { ...SOURCE_DEFAULTS.backoff },
  };
}

// ---------------------------------------------------------------------------------------------
// The field mapping (SQL columns or JSON paths -> account, metric, time, value)

const mapSchema = z
  .strictObject({
    account: fieldPath.optional(),
    fixed_account: accountId.optional(),
    time: fieldPath.optional(),
    time_unit: z.enum(['ms', 's']).optional(),
    metric: fieldPath.optional(),
    fixed_metric: metricName.optional(),
    value: fieldPath.optional(),
    values: z.record(metricName, fieldPath).optional(),
  })
  .superRefine((m, ctx) => {
    const add = (path: string[], message: string) => ctx.addIssue({ code: 'custom', path, message });
    if ((m.account === undefined) === (m.fixed_account === undefined))
      add(m.account === undefined ? [] : ['fixed_account'], 'the mapping needs exactly one of account (a field) or fixed_account');
    if (m.values !== undefined) {
      if (Object.keys(m.values).length === 0) add(['values'], 'values needs at least one metric: field entry');
      for (const k of ['value', 'metric', 'fixed_metric'] as const)
        if (m[k] !== undefined) add([k], `${k} cannot be used with values (values maps each metric to its field)`);
      return;
    }
    if (m.value === undefined) add([], 'the mapping needs value (with metric or fixed_metric) or values');
    if ((m.metric === undefined) === (m.fixed_metric === undefined))
      add(
        m.metric === undefined ? [] : ['fixed_metric'],
        'the mapping needs exactly one of metric (a field holding the name) or fixed_metric',
      );
  })
  .transform((m): FieldMapping => {
    const account: FieldSource = m.account !== undefined ? { from: m.account } : { fixed: m.fixed_account ?? '' };
    const values = m.values
      ? Object.entries(m.values).map(([metric, value]) => ({ metric: { fixed: metric }, value }))
      : [{ metric: (m.metric !== undefined ? { from: m.metric } : { fixed: m.fixed_metric ?? '' }) as FieldSource, value: m.value ?? '' }];
    return { account, ...(m.time !== undefined ? { time: m.time } : {}), timeUnit: m.time_unit ?? SOURCE_DEFAULTS.timeUnit, values };
  });

// ---------------------------------------------------------------------------------------------
// sql

/**
 * The `$n` parameters a SQL text references, ignoring string literals, quoted identifiers and
 * comments (so `'$1'` in a literal does not count).
 */
export function sqlParameters(sql: string): Set<number> {
  const stripped = sql
    .replace(/--[^\n]*/g, ' ')
    .replace(/\/\*[\s\S]*?\*\//g, ' ')
    .replace(/'(?:[^']|'')*'/g, "''")
    .replace(/"(?:[^"]|"")*"/g, '""');
  const found = new Set<number>();
  for (const m of stripped.matchAll(/\$(\d+)\b/g)) found.add(Number(m[1]));
  return found;
}

/** Problems with a query-mode SQL text, as messages (empty when fine). */
export function lintSqlQuery(sql: string): string[] {
  const problems: string[] = [];
  const params = sqlParameters(sql);
  const stripped = sql.replace(/--[^\n]*/g, ' ').replace(/'(?:[^']|'')*'/g, "''");
  if (!params.has(1)) problems.push('the query must use $1 (the cursor), e.g. WHERE updated_at >= $1');
  for (const n of params)
    if (n < 1 || n > 3) problems.push(`unknown parameter $${n} (the puller passes $1 = cursor, $2 = key of the last row, $3 = batch size)`);
  if (params.has(3) && !params.has(2))
    problems.push('$3 needs $2 as well (postgresql must see every parameter); without a key parameter write the LIMIT as a number');
  if (!/\border\s+by\b/i.test(stripped))
    problems.push('the query must ORDER BY the cursor column (and the key), or pages would come in any order');
  // a strict `> $1` with a LIMIT loses the rows that share the boundary value with the last row of a full page
  if (!params.has(2) && /\blimit\b/i.test(stripped) && /(^|[^<>=!])>\s*\$1\b/.test(stripped))
    problems.push(
      'a strict "> $1" with LIMIT skips rows that share the cursor value of the last row of a full page; ' +
        'write ">= $1" (rows already pulled are skipped by key) or a keyset "(updated_at, id) > ($1, $2)"',
    );
  return problems;
}

const sqlSchema = z
  .strictObject({
    ...common,
    kind: z.literal('sql'),
    url: z.string().optional(),
    url_env: envName.optional(),
    table: identifier.optional(),
    query: z.string().trim().min(1).optional(),
    cursor: identifier.optional(),
    key: identifier.optional(),
    start: z.union([z.string(), z.number()]).optional(),
    batch_size: z.number().int().min(1).max(100_000).optional(),
    max_pages: z.number().int().min(1).max(100_000).optional(),
    settle: durationSchema.optional(),
    map: mapSchema,
  })
  .superRefine((s, ctx) => {
    checkCommon(s, ctx);
    const add = (path: string[], message: string) => ctx.addIssue({ code: 'custom', path, message });
    if ((s.url === undefined) === (s.url_env === undefined))
      add(s.url === undefined ? [] : ['url_env'], 'a sql source needs exactly one of url or url_env');
    if (s.url !== undefined && !/^postgres(ql)?:\/\//.test(s.url))
      add(['url'], `invalid url ${showValue(s.url)} (expected postgres://user@host:port/database)`);
    if ((s.table === undefined) === (s.query === undefined))
      add(s.table === undefined ? [] : ['query'], 'a sql source needs exactly one of table or query');
    if (s.query !== undefined) for (const p of lintSqlQuery(s.query)) add(['query'], p);
    if (s.settle !== undefined && s.query !== undefined)
      add(['settle'], "settle applies to table mode only (in a query, add e.g. AND updated_at < now() - interval '30 seconds')");
  })
  .transform((s): SqlSourceSpec => {
    const spec: SqlSourceSpec = {
      ...commonOut(s),
      kind: 'sql',
      cursor: s.cursor ?? SOURCE_DEFAULTS.sqlCursor,
      key: s.key ?? SOURCE_DEFAULTS.sqlKey,
      batchSize: s.batch_size ?? SOURCE_DEFAULTS.batchSize,
      maxPages: s.max_pages ?? SOURCE_DEFAULTS.maxPages,
      settleMs: s.settle ?? SOURCE_DEFAULTS.settleMs,
      // the event time defaults to the cursor column (an updated_at is often the only time there is)
      map: s.map.time === undefined ? { ...s.map, time: s.cursor ?? SOURCE_DEFAULTS.sqlCursor } : s.map,
    };
    if (s.url !== undefined) spec.url = s.url;
    if (s.url_env !== undefined) spec.urlEnv = s.url_env;
    if (s.table !== undefined) spec.table = s.table;
    if (s.query !== undefined) spec.query = s.query;
    // a query needs a first value for $1; -infinity fits timestamp cursors (set start: 0 for numbers)
    if (s.start !== undefined) spec.start = String(s.start);
    else if (s.query !== undefined) spec.start = '-infinity';
    return spec;
  });

// ---------------------------------------------------------------------------------------------
// prometheus

const targetSchema = z
  .strictObject({ url: httpUrl, account: accountId.optional() })
  .transform((t): ScrapeTarget => ({ url: t.url, ...(t.account !== undefined ? { account: t.account } : {}) }));

const prometheusSchema = z
  .strictObject({
    ...common,
    kind: z.literal('prometheus'),
    targets: z.array(targetSchema).min(1),
    account_label: labelName.optional(),
    include: z
      .array(
        z.string().regex(/^[A-Za-z0-9_:.*]+$/, { error: (i) => `invalid metric pattern ${showValue(i.input)} (names with * wildcards)` }),
      )
      .optional(),
    suffix_labels: z.array(labelName).optional(),
    counters: z.enum(['delta', 'raw']).optional(),
    honor_timestamps: z.boolean().optional(),
    headers_env: headerEnvMap.optional(),
  })
  .superRefine((s, ctx) => {
    checkCommon(s, ctx);
    if (s.account_label === undefined) {
      s.targets.forEach((t, i) => {
        if (t.account === undefined)
          ctx.addIssue({ code: 'custom', path: ['targets', i], message: 'target needs an account (or set account_label on the source)' });
      });
    }
    if (s.account_label !== undefined && s.suffix_labels?.includes(s.account_label))
      ctx.addIssue({
        code: 'custom',
        path: ['suffix_labels'],
        message: `the account label "${s.account_label}" cannot also be a suffix label`,
      });
  })
  .transform((s): PrometheusSourceSpec => ({
    ...commonOut(s),
    kind: 'prometheus',
    targets: s.targets,
    ...(s.account_label !== undefined ? { accountLabel: s.account_label } : {}),
    include: s.include ?? [],
    suffixLabels: s.suffix_labels ?? [],
    counters: s.counters ?? SOURCE_DEFAULTS.counters,
    honorTimestamps: s.honor_timestamps ?? SOURCE_DEFAULTS.honorTimestamps,
    headersEnv: s.headers_env ?? {},
  }));

// ---------------------------------------------------------------------------------------------
// http_json

const httpJsonSchema = z
  .strictObject({
    ...common,
    kind: z.literal('http_json'),
    url: httpUrl,
    items: fieldPath.optional(),
    map: mapSchema,
    cursor_param: z
      .string()
      .regex(/^[A-Za-z0-9_.~-]+$/, { error: (i) => `invalid query parameter name ${showValue(i.input)}` })
      .optional(),
    cursor_format: z.enum(['iso', 'ms', 's']).optional(),
    headers: headerMap.optional(),
    headers_env: headerEnvMap.optional(),
  })
  .superRefine((s, ctx) => {
    checkCommon(s, ctx);
    if (s.cursor_param !== undefined && s.map.time === undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['cursor_param'],
        message: 'cursor_param needs map.time (the cursor is the newest event time pulled)',
      });
  })
  .transform((s): HttpJsonSourceSpec => ({
    ...commonOut(s),
    kind: 'http_json',
    url: s.url,
    ...(s.items !== undefined ? { items: s.items } : {}),
    map: s.map,
    ...(s.cursor_param !== undefined ? { cursorParam: s.cursor_param } : {}),
    cursorFormat: s.cursor_format ?? SOURCE_DEFAULTS.cursorFormat,
    headers: s.headers ?? {},
    headersEnv: s.headers_env ?? {},
  }));

// ---------------------------------------------------------------------------------------------

const sourceSchema = z.discriminatedUnion('kind', [sqlSchema, prometheusSchema, httpJsonSchema], {
  error: (i) => {
    const kind = (i.input as Record<string, unknown> | undefined)?.kind;
    if (i.code === 'invalid_union' && kind === undefined) return `missing required key "kind" (${SOURCE_KINDS.join(', ')})`;
    if (i.code === 'invalid_union') return `unknown source kind ${showValue(kind)} (expected ${SOURCE_KINDS.join(', ')})`;
    return undefined;
  },
});

/** sources.yaml: `sources:` - the pull sources (the file is optional; the list may be empty). */
export const sourcesFileSchema = z
  .strictObject({ sources: z.array(sourceSchema) })
  .transform((f): { sources: SourceSpec[] } => ({ sources: f.sources }));
