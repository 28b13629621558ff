import { describe, expect, it } from 'vitest';
import type { Point } from '../domain/types.ts';
import { isPrecision, parseLineProtocol } from './line-protocol.ts';
import type { LineProtocolOptions, Precision } from './line-protocol.ts';
import type { ParseErrorCode } from './parse-result.ts';

const NOW_MS = 1_700_000_123_456;

function parse(body: string, options: Partial<LineProtocolOptions> = {}) {
  return parseLineProtocol(body, { precision: 'ns', defaultTimeMs: NOW_MS, ...options });
}

/** [metric, value] pairs of the points, for compact expectations */
function mv(points: Point[]): Array<[string, number]> {
  return points.map((p) => [p.metric, p.value]);
}

describe('parseLineProtocol: valid lines', () => {
  it.each<[string, string, Array<[string, number]>]>([
    [
      'two float fields',
      'cpu,account=a usage_user=12.5,usage_system=3.25 1',
      [
        ['cpu_usage_user', 12.5],
        ['cpu_usage_system', 3.25],
      ],
    ],
    ['account tag after other tags', 'cpu,host=h,region=r,account=a v=1 1', [['cpu_v', 1]]],
    ['integer', 'm,account=a v=123i', [['m_v', 123]]],
    ['negative integer', 'm,account=a v=-5i', [['m_v', -5]]],
    ['largest int64', 'm,account=a v=9223372036854775807i', [['m_v', 9223372036854775807]]],
    ['smallest int64', 'm,account=a v=-9223372036854775808i', [['m_v', -9223372036854775808]]],
    ['integer with leading zeros', 'm,account=a v=007i', [['m_v', 7]]],
    ['unsigned', 'm,account=a v=123u', [['m_v', 123]]],
    ['largest uint64', 'm,account=a v=18446744073709551615u', [['m_v', 18446744073709551615]]],
    ['float without a point', 'm,account=a v=1', [['m_v', 1]]],
    ['negative float', 'm,account=a v=-1.5', [['m_v', -1.5]]],
    ['float starting with a point', 'm,account=a v=.5', [['m_v', 0.5]]],
    ['negative float starting with a point', 'm,account=a v=-.5', [['m_v', -0.5]]],
    ['float ending with a point', 'm,account=a v=1.', [['m_v', 1]]],
    ['exponent', 'm,account=a v=1e3', [['m_v', 1000]]],
    ['negative exponent, capital E', 'm,account=a v=-1.5E-3', [['m_v', -0.0015]]],
    ['explicit positive exponent', 'm,account=a v=6.0e+5', [['m_v', 600000]]],
    ['huge exponent', 'm,account=a v=-1.234456e+78', [['m_v', -1.234456e78]]],
    ['more digits than a double holds', 'm,account=a v=3.14159265358979323846', [['m_v', Math.PI]]],
    [
      '0.1 rounds like Number()',
      'm,account=a v=0.1,w=0.3,x=123456789.123456',
      [
        ['m_v', 0.1],
        ['m_w', 0.3],
        ['m_x', 123456789.123456],
      ],
    ],
    [
      'booleans true',
      'm,account=a a=t,b=T,c=true,d=True,e=TRUE',
      [
        ['m_a', 1],
        ['m_b', 1],
        ['m_c', 1],
        ['m_d', 1],
        ['m_e', 1],
      ],
    ],
    [
      'booleans false',
      'm,account=a a=f,b=F,c=false,d=False,e=FALSE',
      [
        ['m_a', 0],
        ['m_b', 0],
        ['m_c', 0],
        ['m_d', 0],
        ['m_e', 0],
      ],
    ],
    ['string field skipped', 'm,account=a s="hello",v=2', [['m_v', 2]]],
    ['string with space, comma, equals', 'm,account=a s="a b,c=d",v=2', [['m_v', 2]]],
    ['string with escaped quote and backslash', String.raw`m,account=a s="say \"hi\" \\",v=2`, [['m_v', 2]]],
    ['string ending in an escaped backslash', String.raw`m,account=a s="dir\\" 1`, []],
    ['only string fields', 'm,account=a s="x"', []],
    ['escaped space and comma in measurement', String.raw`my\ cpu\,x,account=a v=1`, [['my cpu,x_v', 1]]],
    ['equals sign in measurement is literal', String.raw`a=b,account=a v=1`, [['a=b_v', 1]]],
    ['escaped characters in field key', String.raw`m,account=a f\ o\,o\=x=1`, [['m_f o,o=x', 1]]],
    ['other backslashes are literal', String.raw`m\x,account=a f\y=1`, [[String.raw`m\x_f\y`, 1]]],
    ['quotes in measurement are literal', `"m",account=a v=1`, [['"m"_v', 1]]],
    ['several blanks between sections', 'm,account=a   v=1   1', [['m_v', 1]]],
    ['unicode', 'mesure,account=a température=21.5 1', [['mesure_température', 21.5]]],
  ])('%s', (_name, body, expected) => {
    const r = parse(body);
    expect(r.errors).toEqual([]);
    expect(mv(r.points)).toEqual(expected);
    for (const p of r.points) expect(p.account).toBe('a');
  });

  it('reads decimal literals exactly as Number() does (fast path and fallback)', () => {
    let seed = 42;
    const rand = (n: number) => {
      seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0;
      return (seed >>> 8) % n;
    };
    const tokens: string[] = [];
    for (let k = 0; k < 3000; k++) {
      const digits = Array.from({ length: 1 + rand(18) }, () => String(rand(10))).join('');
      const point = rand(digits.length + 1);
      const sign = rand(3) === 0 ? '-' : '';
      tokens.push(`${sign}${digits.slice(0, point)}.${digits.slice(point)}`.replace(/\.$/, rand(2) ? '.' : ''));
    }
    const body = tokens.map((t) => `m,account=a v=${t}`).join('\n');
    const r = parse(body);
    expect(r.errors).toEqual([]);
    expect(r.points.map((p) => p.value)).toEqual(tokens.map((t) => Number(t)));
  });

  it('counts string fields of valid lines only', () => {
    const r = parse('m,account=a s="x",t="y",v=1\nm,account=a s="x",v=oops\nm,account=a u="z"');
    expect(r.skippedStringFields).toBe(3);
    expect(r.errors).toHaveLength(1);
  });

  it('reads a string field holding a newline as InfluxDB 2 does, and keeps counting lines', () => {
    const r = parse('m,account=a s="first\nsecond",v=1 1000000\nm,account=a v=2 2000000\nbad');
    expect(mv(r.points)).toEqual([
      ['m_v', 1],
      ['m_v', 2],
    ]);
    expect(r.lines).toEqual([1, 3]);
    expect(r.errors.map((e) => e.line)).toEqual([4]);
  });

  it.each<[string, string, string]>([
    ['escaped comma', String.raw`m,account=acme\,inc v=1`, 'acme,inc'],
    ['escaped space', String.raw`m,account=acme\ inc v=1`, 'acme inc'],
    ['escaped equals', String.raw`m,account=a\=b v=1`, 'a=b'],
    ['backslash before an escaped space (as the JS client writes it)', String.raw`m,account=a\\ b v=1`, String.raw`a\ b`],
    ['literal backslash', String.raw`m,account=a\b v=1`, String.raw`a\b`],
    ['quote is literal', `m,account="a" v=1`, '"a"'],
  ])('takes the account from the tag: %s', (_name, body, account) => {
    const r = parse(body);
    expect(r.errors).toEqual([]);
    expect(r.points.map((p) => p.account)).toEqual([account]);
  });

  it('uses a custom account tag and treats "account" as an ordinary tag then', () => {
    const r = parse('m,account=x,tenant=t1 v=1', { accountTag: 'tenant', keepTags: true });
    expect(r.errors).toEqual([]);
    expect(r.points).toEqual([{ account: 't1', metric: 'm_v', tsMs: NOW_MS, value: 1, tags: { account: 'x' } }]);
  });

  it('matches an escaped account tag key', () => {
    const r = parse(String.raw`m,my\ account=x v=1`, { accountTag: 'my account' });
    expect(r.points.map((p) => p.account)).toEqual(['x']);
  });

  it('keeps the other tags, unescaped and without the account tag, only with keepTags', () => {
    const body = String.raw`m,host=h\ 1,account=a,k\=y=v\,w v=1,w=2 1000000`;
    const kept = parse(body, { keepTags: true });
    expect(kept.points).toEqual([
      { account: 'a', metric: 'm_v', tsMs: 1, value: 1, tags: { host: 'h 1', 'k=y': 'v,w' } },
      { account: 'a', metric: 'm_w', tsMs: 1, value: 2, tags: { host: 'h 1', 'k=y': 'v,w' } },
    ]);
    const dropped = parse(body);
    expect(dropped.points[0]).toEqual({ account: 'a', metric: 'm_v', tsMs: 1, value: 1 });
    expect('tags' in dropped.points[0]!).toBe(false);
  });

  it('keeps a tag named __proto__ as an own property', () => {
    const r = parse('m,account=a,__proto__=x v=1', { keepTags: true });
    const tags = r.points[0]!.tags!;
    expect(Object.keys(tags)).toEqual(['__proto__']);
    expect(Object.getOwnPropertyDescriptor(tags, '__proto__')?.value).toBe('x');
  });

  it('reuses nothing wrongly between consecutive lines that look alike', () => {
    const body = [
      'cpu,account=acme-1 a=1,b=2',
      'cpu,account=acme-2 a=3,c=4',
      'cpux,account=acme-2 a=5',
      'cp,account=acme-22 b=6',
      'cpu,account=acme-1 c=7,a=8',
    ].join('\n');
    const r = parse(body);
    expect(r.points.map((p) => [p.account, p.metric, p.value])).toEqual([
      ['acme-1', 'cpu_a', 1],
      ['acme-1', 'cpu_b', 2],
      ['acme-2', 'cpu_a', 3],
      ['acme-2', 'cpu_c', 4],
      ['acme-2', 'cpux_a', 5],
      ['acme-22', 'cp_b', 6],
      ['acme-1', 'cpu_c', 7],
      ['acme-1', 'cpu_a', 8],
    ]);
  });

  it('names metrics right with many interleaved measurements (more than the cache holds)', () => {
    const lines: string[] = [];
    const expected: Array<[string, number]> = [];
    for (let round = 0; round < 3; round++) {
      for (let m = 0; m < 200; m++) {
        const [k1, k2] = (m + round) % 2 === 0 ? ['a', 'b'] : ['b', 'a'];
        lines.push(`m${m},account=x ${k1}=${round},${k2}=${m}`);
        expected.push([`m${m}_${k1}`, round], [`m${m}_${k2}`, m]);
      }
    }
    expect(mv(parse(lines.join('\n')).points)).toEqual(expected);
  });
});

describe('parseLineProtocol: line structure', () => {
  it.each<[string, string, number[]]>([
    ['comment lines', '# a comment\nm,account=a v=1\n# another "one\nm,account=a v=2', [2, 4]],
    ['indented comment', '   # comment\nm,account=a v=1', [2]],
    ['empty lines', '\n\nm,account=a v=1\n\n\nm,account=a v=2\n', [3, 6]],
    ['whitespace-only lines', '  \n\t\nm,account=a v=1', [3]],
    ['leading whitespace', '   m,account=a v=1', [1]],
    ['CRLF line ends', 'm,account=a v=1 1000000\r\nm,account=a v=2\r\n\r\nm,account=a v=3 3000000\r\n', [1, 2, 4]],
    ['trailing spaces and tabs', 'm,account=a v=1 1000000  \t\nm,account=a v=2 \t\nm,account=a s="x"  ', [1, 2]],
    ['no newline at the end', 'm,account=a v=1\nm,account=a v=2', [1, 2]],
    ['tab before the timestamp', 'm,account=a v=1\t1000000', [1]],
  ])('%s', (_name, body, lines) => {
    const r = parse(body);
    expect(r.errors).toEqual([]);
    expect(r.lines).toEqual(lines);
  });

  it('returns nothing for an empty body', () => {
    expect(parse('')).toEqual({ points: [], lines: [], errors: [], skippedStringFields: 0 });
  });
});

describe('parseLineProtocol: timestamps and precision', () => {
  it.each<[Precision, string, number]>([
    ['ns', '1700000000123456789', 1_700_000_000_123],
    ['ns', '1700000000000000000', 1_700_000_000_000],
    ['ns', '1999999', 1],
    ['ns', '999999', 0],
    ['ns', '0', 0],
    ['ns', '0000000000000000000', 0],
    ['ns', '-1', -1],
    ['ns', '-1000000', -1],
    ['ns', '-1000001', -2],
    ['ns', '9223372036854775806', 9_223_372_036_854],
    ['ns', '-9223372036854775806', -9_223_372_036_855],
    ['us', '1700000000123456', 1_700_000_000_123],
    ['us', '1999', 1],
    ['us', '-1', -1],
    ['us', '-1000', -1],
    ['ms', '1700000000123', 1_700_000_000_123],
    ['ms', '-5', -5],
    ['ms', '9223372036854', 9_223_372_036_854],
    ['s', '1700000000', 1_700_000_000_000],
    ['s', '-2', -2000],
    ['s', '9223372036', 9_223_372_036_000],
  ])('precision %s: %s -> %d ms', (precision, ts, ms) => {
    const r = parse(`m,account=a v=1 ${ts}`, { precision });
    expect(r.errors).toEqual([]);
    expect(r.points.map((p) => p.tsMs)).toEqual([ms]);
  });

  it.each<[Precision, number, number]>([
    ['ns', 1_700_000_123_456, 1_700_000_123_456],
    ['ms', 1_700_000_123_456.7, 1_700_000_123_456],
    ['s', 1_700_000_123_456, 1_700_000_123_000],
  ])('precision %s: a line without timestamp gets the default time %d -> %d', (precision, defaultTimeMs, ms) => {
    const r = parse('m,account=a v=1', { precision, defaultTimeMs });
    expect(r.points.map((p) => p.tsMs)).toEqual([ms]);
  });

  it.each<[Precision, string]>([
    ['ns', '9223372036854775807'],
    ['ns', '99999999999999999999'],
    ['us', '9223372036854776'],
    ['ms', '9223372036855'],
    ['s', '9223372037'],
    ['s', '-9223372037'],
  ])('precision %s: %s is out of range', (precision, ts) => {
    const r = parse(`m,account=a v=1 ${ts}`, { precision });
    expect(r.points).toEqual([]);
    expect(r.errors).toEqual([{ line: 1, code: 'bad_timestamp', reason: `timestamp out of range "${ts}"`, text: `m,account=a v=1 ${ts}` }]);
  });

  it('recognizes the precision names', () => {
    expect(['ns', 'us', 'ms', 's'].every(isPrecision)).toBe(true);
    expect(['n', 'u', 'h', '', undefined].some(isPrecision)).toBe(false);
  });
});

describe('parseLineProtocol: errors', () => {
  it.each<[string, ParseErrorCode, string]>([
    ['bad', 'syntax', 'missing field set'],
    ['cpu,account=a', 'syntax', 'missing field set'],
    ['cpu,account=a ', 'syntax', 'missing field set'],
    ['cpu,account=a \r', 'syntax', 'missing field set'],
    [',account=a v=1', 'syntax', 'missing measurement'],
    ['cpu,=a v=1', 'syntax', 'missing tag key'],
    ['cpu, v=1', 'syntax', 'missing tag key'],
    ['cpu,account=a, v=1', 'syntax', 'missing tag key'],
    ['cpu,account=a,host v=1', 'syntax', 'missing tag value for "host"'],
    ['cpu,account=a,host= v=1', 'syntax', 'missing tag value for "host"'],
    ['cpu,account=a,host=x=y v=1', 'syntax', 'invalid tag value for "host": unescaped "="'],
    ['cpu,account=a,account=b v=1', 'syntax', 'duplicate tag "account"'],
    ['cpu,host=x,account=a,host=y v=1', 'syntax', 'duplicate tag "host"'],
    ['cpu,account=a =1', 'syntax', 'missing field key'],
    ['cpu,account=a v=1,=2', 'syntax', 'missing field key'],
    ['cpu,account=a v=1,', 'syntax', 'missing field key'],
    ['cpu,account=a v=1, 5', 'syntax', 'missing field key'],
    ['cpu,account=a v', 'syntax', 'missing field value for "v"'],
    ['cpu,account=a v 1', 'syntax', 'missing field value for "v"'],
    ['cpu,account=a v=', 'syntax', 'missing field value for "v"'],
    ['cpu,account=a v= 1', 'syntax', 'missing field value for "v"'],
    ['cpu,account=a v=,w=1', 'syntax', 'missing field value for "v"'],
    ['cpu,account=a v="abc', 'syntax', 'unterminated string value for "v"'],
    ['cpu,account=a v="abc\\"', 'syntax', 'unterminated string value for "v"'],
    ['cpu,account=a v="abc"x', 'syntax', 'invalid field value for "v": text after the closing quote'],
    ['cpu,account=a v=abc', 'bad_value', 'invalid field value for "v": "abc"'],
    ['cpu,account=a v=tru', 'bad_value', 'invalid field value for "v": "tru"'],
    ['cpu,account=a v=truE', 'bad_value', 'invalid field value for "v": "truE"'],
    ['cpu,account=a v=+1', 'bad_value', 'invalid field value for "v": "+1"'],
    ['cpu,account=a v=1.2.3', 'bad_value', 'invalid field value for "v": "1.2.3"'],
    ['cpu,account=a v=1e', 'bad_value', 'invalid field value for "v": "1e"'],
    ['cpu,account=a v=-', 'bad_value', 'invalid field value for "v": "-"'],
    ['cpu,account=a v=.', 'bad_value', 'invalid field value for "v": "."'],
    ['cpu,account=a v=--1', 'bad_value', 'invalid field value for "v": "--1"'],
    ['cpu,account=a v=1_000', 'bad_value', 'invalid field value for "v": "1_000"'],
    ['cpu,account=a v=0x10', 'bad_value', 'invalid field value for "v": "0x10"'],
    ['cpu,account=a v=1.5i', 'bad_value', 'invalid field value for "v": "1.5i"'],
    ['cpu,account=a v=1e3i', 'bad_value', 'invalid field value for "v": "1e3i"'],
    ['cpu,account=a v=i', 'bad_value', 'invalid field value for "v": "i"'],
    ['cpu,account=a v=-i', 'bad_value', 'invalid field value for "v": "-i"'],
    ['cpu,account=a v=12ii', 'bad_value', 'invalid field value for "v": "12ii"'],
    ['cpu,account=a v=12i3', 'bad_value', 'invalid field value for "v": "12i3"'],
    ['cpu,account=a v=-3u', 'bad_value', 'invalid field value for "v": "-3u"'],
    ['cpu,account=a v=12x', 'bad_value', 'invalid field value for "v": "12x"'],
    ['cpu,account=a v=1\r2', 'bad_value', 'invalid field value for "v": "1\\r2"'],
    ['cpu,account=a v=9223372036854775808i', 'bad_value', 'integer out of range for "v": "9223372036854775808i"'],
    ['cpu,account=a v=-9223372036854775809i', 'bad_value', 'integer out of range for "v": "-9223372036854775809i"'],
    ['cpu,account=a v=18446744073709551616u', 'bad_value', 'integer out of range for "v": "18446744073709551616u"'],
    ['cpu,account=a v=1e400', 'non_finite', 'non-finite value for "v": "1e400"'],
    ['cpu,account=a v=-1e400', 'non_finite', 'non-finite value for "v": "-1e400"'],
    ['cpu,account=a v=NaN', 'non_finite', 'non-finite value for "v": "NaN"'],
    ['cpu,account=a v=-Inf', 'non_finite', 'non-finite value for "v": "-Inf"'],
    ['cpu,account=a v=1 12a', 'bad_timestamp', 'invalid timestamp "12a"'],
    ['cpu,account=a v=1 1.5', 'bad_timestamp', 'invalid timestamp "1.5"'],
    ['cpu,account=a v=1 -', 'bad_timestamp', 'invalid timestamp "-"'],
    ['cpu,account=a v=1 +5', 'bad_timestamp', 'invalid timestamp "+5"'],
    ['cpu,account=a v=1 1-2', 'bad_timestamp', 'invalid timestamp "1-2"'],
    ['cpu,account=a v=1 123 456', 'syntax', 'unexpected text after the timestamp: "456"'],
    ['cpu,host=a v=1', 'missing_account', 'missing account tag "account"'],
    ['cpu v=1 1', 'missing_account', 'missing account tag "account"'],
    ['cpu,Account=a v=1', 'missing_account', 'missing account tag "account"'],
    ['cpu,host=a v=abc', 'bad_value', 'invalid field value for "v": "abc"'],
  ])('%j -> %s: %s', (body, code, reason) => {
    const r = parse(`m,account=ok v=1\n${body}\nm,account=ok v=2`);
    expect(r.errors).toEqual([{ line: 2, code, reason, text: body.replace(/\r$/, '') }]);
    expect(mv(r.points)).toEqual([
      ['m_v', 1],
      ['m_v', 2],
    ]);
    expect(r.lines).toEqual([1, 3]);
  });

  it('quotes special characters of keys in reasons', () => {
    const r = parse(String.raw`m,account=a k\ "x"=oops`);
    expect(r.errors[0]!.reason).toBe('invalid field value for "k \\"x\\"": "oops"');
  });

  it('drops every field of a line with one bad field', () => {
    const r = parse('m,account=a a=1,b=2,c=bad,d=4');
    expect(r.points).toEqual([]);
    expect(r.errors.map((e) => e.reason)).toEqual(['invalid field value for "c": "bad"']);
  });

  it('cuts the error text to 200 characters and leaves out the CR of a CRLF line', () => {
    const long = `m,account=a ${'x'.repeat(300)}`;
    const r = parse(`${long}\r\nbad\r\n`);
    expect(r.errors.map((e) => [e.line, e.text])).toEqual([
      [1, long.slice(0, 200)],
      [2, 'bad'],
    ]);
  });

  it('recovers after an unterminated string on the next line', () => {
    const r = parse('m,account=a s="open,v=1\nm,account=a v=2\nm,account=a v=3');
    expect(r.errors.map((e) => [e.line, e.code])).toEqual([[1, 'syntax']]);
    expect(r.lines).toEqual([2, 3]);
  });
});

describe('parseLineProtocol: a batch of good and bad lines', () => {
  it('keeps the good lines and reports the bad ones by line number', () => {
    const body = [
      '# header', // 1
      'cpu,account=acme,host=a usage=10.5,idle=89.5 1700000000000000000', // 2
      'cpu,account=acme usage=oops 1700000000000000000', // 3
      '', // 4
      'cpu,host=b usage=1 1700000000000000000', // 5
      'log,account=acme msg="multi', // 6
      'line message",level=3i 1700000001000000000', // 7
      'mem,account=globex used=1e400', // 8
      'mem,account=globex used=512i,ok=true 1700000002000000000', // 9
      'mem,account=globex used=1 17000000020000000000000', // 10
      'disk,account=initech free=0.25', // 11
    ].join('\n');
    const r = parse(body);
    expect(r.points).toEqual([
      { account: 'acme', metric: 'cpu_usage', tsMs: 1_700_000_000_000, value: 10.5 },
      { account: 'acme', metric: 'cpu_idle', tsMs: 1_700_000_000_000, value: 89.5 },
      { account: 'acme', metric: 'log_level', tsMs: 1_700_000_001_000, value: 3 },
      { account: 'globex', metric: 'mem_used', tsMs: 1_700_000_002_000, value: 512 },
      { account: 'globex', metric: 'mem_ok', tsMs: 1_700_000_002_000, value: 1 },
      { account: 'initech', metric: 'disk_free', tsMs: NOW_MS, value: 0.25 },
    ]);
    expect(r.lines).toEqual([2, 2, 6, 9, 9, 11]);
    expect(r.errors.map((e) => [e.line, e.code])).toEqual([
      [3, 'bad_value'],
      [5, 'missing_account'],
      [8, 'non_finite'],
      [10, 'bad_timestamp'],
    ]);
    expect(r.skippedStringFields).toBe(1);
  });
});
