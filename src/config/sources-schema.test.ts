/**
 * sources.yaml: the defaults of every kind, the example in rules/, and every issue reported with
 * its file, line and key path (through the rules loader, as `forewarn check` shows them).
 */
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { checkRules } from './check.ts';
import { formatIssue } from './errors.ts';
import { inspectRules, loadRules } from './load-rules.ts';
import { lintSqlQuery, sourcesFileSchema, sqlParameters } from './sources-schema.ts';

const DEFAULT_RULES = fileURLToPath(new URL('../../rules', import.meta.url));
const temps: string[] = [];
afterEach(() => {
  for (const d of temps.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A copy of rules/ with `sources.yaml` replaced by `text` (or removed when undefined). */
function rulesWithSources(text: string | undefined): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'forewarn-sources-'));
  temps.push(dir);
  cpSync(DEFAULT_RULES, dir, { recursive: true });
  if (text === undefined) rmSync(path.join(dir, 'sources.yaml'));
  else writeFileSync(path.join(dir, 'sources.yaml'), text);
  return dir;
}

describe('sources.yaml: defaults', () => {
  it('fills the defaults of each kind, in ms, and the sql event time defaults to the cursor column', () => {
    const { sources } = sourcesFileSchema.parse({
      sources: [
        { name: 'db', kind: 'sql', url: 'postgres://u@h/d', table: 'usage', map: { account: 'a', fixed_metric: 'calls', value: 'n' } },
        { name: 'prom', kind: 'prometheus', targets: [{ url: 'http://127.0.0.1:9100/metrics', account: 'acme' }] },
        {
          name: 'api',
          kind: 'http_json',
          url: 'https://x.example/u',
          interval: '5m',
          map: { fixed_account: 'acme', metric: 'm', value: 'v' },
        },
      ],
    });
    expect(sources[0]).toEqual({
      name: 'db',
      kind: 'sql',
      enabled: true,
      intervalMs: 60_000,
      timeoutMs: 30_000,
      backoff: { initialMs: 2000, maxMs: 300_000 },
      url: 'postgres://u@h/d',
      table: 'usage',
      cursor: 'updated_at',
      key: 'id',
      batchSize: 1000,
      maxPages: 100,
      settleMs: 0,
      map: { account: { from: 'a' }, time: 'updated_at', timeUnit: 'ms', values: [{ metric: { fixed: 'calls' }, value: 'n' }] },
    });
    expect(sources[1]).toMatchObject({
      kind: 'prometheus',
      intervalMs: 60_000,
      counters: 'delta',
      honorTimestamps: true,
      include: [],
      suffixLabels: [],
      headersEnv: {},
    });
    expect(sources[2]).toMatchObject({
      kind: 'http_json',
      intervalMs: 300_000,
      cursorFormat: 'iso',
      headers: {},
      map: { account: { fixed: 'acme' }, values: [{ metric: { from: 'm' }, value: 'v' }] },
    });
    expect(sources[2]).not.toHaveProperty('map.time');
  });

  it('a query source starts from -infinity unless told otherwise', () => {
    const q = 'SELECT * FROM u WHERE updated_at >= $1 ORDER BY updated_at';
    const parse = (extra: object) =>
      sourcesFileSchema.parse({
        sources: [{ name: 'q', kind: 'sql', url_env: 'DB', query: q, map: { account: 'a', metric: 'm', value: 'v' }, ...extra }],
      }).sources[0];
    expect(parse({})).toMatchObject({ start: '-infinity', urlEnv: 'DB' });
    expect(parse({ start: 0 })).toMatchObject({ start: '0' });
  });
});

describe('sources.yaml: the rules loader and forewarn check', () => {
  it('loads the example in rules/ (every source disabled) and reports it in check', () => {
    const bundle = loadRules(DEFAULT_RULES);
    expect(bundle.sources.map((s) => [s.name, s.kind, s.enabled])).toEqual([
      ['product-usage', 'sql', false],
      ['app-metrics', 'prometheus', false],
      ['billing-usage', 'http_json', false],
    ]);
    expect(Object.isFrozen(bundle.sources[0])).toBe(true);
    expect(checkRules(DEFAULT_RULES).report).toContain('sources.yaml: ok (3 sources, 3 disabled)');
  });

  it('reads a folder without sources.yaml as no sources', () => {
    expect(loadRules(rulesWithSources(undefined)).sources).toEqual([]);
  });

  const SQL_OK = `
  - name: db
    kind: sql
    url: postgres://u@h/d
    table: usage
    map: { account: a, metric: m, value: v }`;

  it.each<[string, string, Array<[line: number, path: string, message: string | RegExp]>]>([
    [
      'unknown kind',
      `sources:\n  - name: x\n    kind: kafka\n`,
      [[3, 'sources[0].kind', 'unknown source kind "kafka" (expected sql, prometheus, http_json)']],
    ],
    [
      'missing kind',
      `sources:\n  - name: x\n    url: http://h/\n`,
      [[2, 'sources[0].kind', 'missing required key "kind" (sql, prometheus, http_json)']],
    ],
    [
      'duplicate names',
      `sources:${SQL_OK}${SQL_OK}\n`,
      [[7, 'sources[1].name', 'duplicate source name "db" (first defined at sources[0])']],
    ],
    [
      'unknown key of its kind',
      `sources:\n  - name: p\n    kind: prometheus\n    targets: [{ url: "http://h:1/metrics", account: a }]\n    table: t\n`,
      [[5, 'sources[0].table', 'unknown key "table"']],
    ],
    [
      'a bad interval and a backoff whose max is below its initial',
      `sources:\n  - name: db\n    kind: sql\n    url: postgres://u@h/d\n    interval: 5 minutes\n    backoff: { initial: 1m, max: 10s }\n    table: usage\n    map: { account: a, metric: m, value: v }\n`,
      [
        [5, 'sources[0].interval', 'invalid duration "5 minutes" (use e.g. 15m, 4h, 2d)'],
        [6, 'sources[0].backoff.max', 'max must not be shorter than initial'],
      ],
    ],
    [
      'both url and url_env, and both table and query',
      `sources:\n  - name: db\n    kind: sql\n    url: postgres://u@h/d\n    url_env: DB\n    table: usage\n    query: SELECT * FROM u WHERE updated_at >= $1 ORDER BY updated_at\n    map: { account: a, metric: m, value: v }\n`,
      [
        [5, 'sources[0].url_env', 'a sql source needs exactly one of url or url_env'],
        [7, 'sources[0].query', 'a sql source needs exactly one of table or query'],
      ],
    ],
    [
      'a strict > $1 with LIMIT loses boundary rows',
      `sources:\n  - name: db\n    kind: sql\n    url: postgres://u@h/d\n    query: SELECT * FROM u WHERE updated_at > $1 ORDER BY updated_at LIMIT 100\n    map: { account: a, metric: m, value: v }\n`,
      [[5, 'sources[0].query', /^a strict "> \$1" with LIMIT skips rows that share the cursor value/]],
    ],
    [
      'a mapping with neither metric nor fixed_metric, and an invalid fixed account',
      `sources:\n  - name: api\n    kind: http_json\n    url: https://x.example/u\n    map:\n      fixed_account: "bad id"\n      value: v\n`,
      [
        [6, 'sources[0].map', 'the mapping needs exactly one of metric (a field holding the name) or fixed_metric'],
        [6, 'sources[0].map.fixed_account', /^invalid account id "bad id"/],
      ],
    ],
    [
      'a prometheus target without an account and no account_label',
      `sources:\n  - name: p\n    kind: prometheus\n    targets:\n      - url: http://h:1/metrics\n`,
      [[5, 'sources[0].targets[0]', 'target needs an account (or set account_label on the source)']],
    ],
    ['a file that is not a list', `sources: {}\n`, [[1, 'sources', 'expected a list, got a mapping']]],
  ])('%s', (_name, text, want) => {
    const dir = rulesWithSources(text);
    const result = inspectRules(dir);
    const file = path.join(dir, 'sources.yaml');
    const got = result.issues.filter((i) => i.file === file);
    expect(got.map(formatIssue), result.issues.map(formatIssue).join('\n')).toHaveLength(want.length);
    want.forEach(([line, p, message], i) => {
      expect(got[i]).toMatchObject({ line, path: p });
      if (typeof message === 'string') expect(got[i]?.message).toBe(message);
      else expect(got[i]?.message).toMatch(message);
    });
    expect(result.bundle).toBeUndefined();
  });
});

describe('sql query parameters and lint', () => {
  it.each<[string, number[]]>([
    ['SELECT * FROM t WHERE (u, id) > ($1, $2) LIMIT $3', [1, 2, 3]],
    ['SELECT \'$2\' AS x, "$3" FROM t WHERE u >= $1 -- $4', [1]],
    ['SELECT * FROM t /* $2 */ WHERE u >= $1', [1]],
  ])('%s uses %j', (sql, want) => {
    expect([...sqlParameters(sql)].sort()).toEqual(want);
  });

  it.each<[string, RegExp | undefined]>([
    ['SELECT * FROM t WHERE u >= $1 ORDER BY u LIMIT 10', undefined],
    ['SELECT * FROM t WHERE (u, id) > ($1, $2) ORDER BY u, id LIMIT $3', undefined],
    ['SELECT * FROM t WHERE u > $1 ORDER BY u', undefined],
    ['SELECT * FROM t WHERE u > $1 ORDER BY u LIMIT 10', /strict "> \$1"/],
    ['SELECT * FROM t WHERE u >= $1 LIMIT 10', /must ORDER BY/],
    ['SELECT * FROM t ORDER BY u', /must use \$1/],
    ['SELECT * FROM t WHERE u >= $1 ORDER BY u LIMIT $3', /\$3 needs \$2/],
    ['SELECT * FROM t WHERE u >= $1 AND x = $4 ORDER BY u', /unknown parameter \$4/],
  ])('%s', (sql, problem) => {
    const problems = lintSqlQuery(sql);
    if (problem === undefined) expect(problems).toEqual([]);
    else
      expect(
        problems.some((p) => problem.test(p)),
        problems.join('\n'),
      ).toBe(true);
  });
});
