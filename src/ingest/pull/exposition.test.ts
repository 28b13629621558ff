/**
 * The exposition parser, line by line: names, labels and their escapes, values (NaN, ±Inf),
 * timestamps in both formats, exemplars, comments, and one error per bad line with its number.
 */
import { describe, expect, it } from 'vitest';
import { isOpenMetrics, parseExposition, parseValue } from './exposition.ts';

describe('parseExposition: sample lines (Prometheus text format)', () => {
  it.each<[string, string, { name: string; labels: Record<string, string>; value: number; tsMs?: number }]>([
    ['bare name and value', 'up 1', { name: 'up', labels: {}, value: 1 }],
    [
      'labels and a ms timestamp',
      'http_requests_total{method="post",code="200"} 1027 1395066363000',
      { name: 'http_requests_total', labels: { method: 'post', code: '200' }, value: 1027, tsMs: 1395066363000 },
    ],
    [
      'escapes in label values',
      String.raw`msdos_file_access_time_seconds{path="C:\\DIR\\FILE.TXT",error="Cannot find file:\n\"FILE.TXT\""} 1.458255915e9`,
      {
        name: 'msdos_file_access_time_seconds',
        labels: { path: 'C:\\DIR\\FILE.TXT', error: 'Cannot find file:\n"FILE.TXT"' },
        value: 1458255915,
      },
    ],
    ['a trailing comma and spaces in the label set', 'm{ a="1" , b="2", } 3', { name: 'm', labels: { a: '1', b: '2' }, value: 3 }],
    ['empty label set', 'm{} 3', { name: 'm', labels: {}, value: 3 }],
    ['colons in names', 'job:requests:rate5m{tenant="acme"} 0.5', { name: 'job:requests:rate5m', labels: { tenant: 'acme' }, value: 0.5 }],
    ['NaN', 'q{quantile="0.5"} NaN', { name: 'q', labels: { quantile: '0.5' }, value: NaN }],
    ['+Inf label and -Inf value', 'h_bucket{le="+Inf"} -Inf', { name: 'h_bucket', labels: { le: '+Inf' }, value: -Infinity }],
    ['negative timestamp', 'm 1 -1000', { name: 'm', labels: {}, value: 1, tsMs: -1000 }],
    ['quoted UTF-8 name (Prometheus 3)', '{"my.metric", tenant="acme"} 7', { name: 'my.metric', labels: { tenant: 'acme' }, value: 7 }],
    ['tab separators and CRLF', 'm\t4\t5\r', { name: 'm', labels: {}, value: 4, tsMs: 5 }],
  ])('%s', (_name, line, want) => {
    const r = parseExposition(line, { openMetrics: false });
    expect(r.errors).toEqual([]);
    expect(r.samples).toEqual([{ ...want, line: 1 }]);
  });
});

describe('parseExposition: OpenMetrics', () => {
  it('reads timestamps as seconds, ignores exemplars and # EOF, keeps TYPE per family', () => {
    const text = [
      '# TYPE acme_http_requests counter',
      '# HELP acme_http_requests Requests.',
      'acme_http_requests_total{code="200"} 3 1700000000.25 # {trace_id="abc"} 1 1700000000.2',
      'acme_http_requests_created{code="200"} 1699999999',
      '# EOF',
    ].join('\n');
    const r = parseExposition(text, { openMetrics: true });
    expect(r.errors).toEqual([]);
    expect(r.samples.map((s) => [s.name, s.value, s.tsMs, s.line])).toEqual([
      ['acme_http_requests_total', 3, 1700000000250, 3],
      ['acme_http_requests_created', 1699999999, undefined, 4],
    ]);
    expect(r.types.get('acme_http_requests')).toBe('counter');
  });

  it.each([
    ['application/openmetrics-text; version=1.0.0; charset=utf-8', true],
    ['text/plain; version=0.0.4; charset=utf-8', false],
    [null, false],
  ])('content type %s -> openMetrics %s', (ct, want) => {
    expect(isOpenMetrics(ct)).toBe(want);
  });
});

describe('parseExposition: bad lines are errors with their line number; good lines survive', () => {
  it.each<[string, string, string, RegExp]>([
    ['no value', 'm', 'syntax', /missing value for m/],
    ['unterminated label set', 'm{a="1" 2', 'syntax', /expected , or }/],
    ['unterminated string', 'm{a="1} 2', 'syntax', /unterminated string/],
    ['unquoted label value', 'm{a=1} 2', 'syntax', /value must be a double-quoted string/],
    ['duplicate label', 'm{a="1",a="2"} 2', 'syntax', /duplicate label "a"/],
    ['not a number', 'm abc', 'bad_value', /invalid value "abc" for m/],
    ['fractional timestamp in the Prometheus format', 'm 1 1.5', 'bad_timestamp', /integer milliseconds/],
    ['text after the timestamp', 'm 1 2 3', 'syntax', /unexpected text after the timestamp/],
    ['a line starting with a digit', '1m 2', 'syntax', /expected a metric name/],
  ])('%s', (_name, bad, code, reason) => {
    const r = parseExposition(`good 1\n${bad}\nalso_good 2\n`, { openMetrics: false });
    expect(r.samples.map((s) => [s.name, s.line])).toEqual([
      ['good', 1],
      ['also_good', 3],
    ]);
    expect(r.errors).toHaveLength(1);
    expect(r.errors[0]).toMatchObject({ line: 2, code });
    expect(r.errors[0]?.reason).toMatch(reason);
  });
});

describe('parseValue', () => {
  it.each<[string, number | undefined]>([
    ['1', 1],
    ['-1.5e-3', -0.0015],
    ['.5', 0.5],
    ['+Inf', Infinity],
    ['-inf', -Infinity],
    ['NaN', NaN],
    ['0x10', undefined],
    ['', undefined],
    ['1,5', undefined],
  ])('%s -> %s', (t, want) => {
    expect(parseValue(t)).toEqual(want);
  });
});
