/**
 * Throughput of the line protocol parser. Run: `npx tsx src/ingest/line-protocol.bench.ts [lines]`.
 * Prints points/s for a uniform body (one account) and a mixed one (many accounts and hosts,
 * integer and boolean fields), best of a few rounds after a warm-up.
 */
import { parseLineProtocol } from './line-protocol.ts';

const lines = Number(process.argv[2] ?? 500_000);

/** a flat string, as a request body decoded from bytes is (repeat/join build rope strings) */
function flat(s: string): string {
  return Buffer.from(s, 'utf8').toString('utf8');
}

function uniformBody(n: number): string {
  const line = 'cpu,account=acme-042,host=a usage_user=12.5,usage_system=3.25 1700000000000000000\n';
  return flat(line.repeat(n));
}

function mixedBody(n: number): string {
  const out: string[] = [];
  for (let k = 0; k < n; k++) {
    const ts = 1_700_000_000_000_000_000n + BigInt(k) * 1_000_000_000n;
    if (k % 2 === 0) {
      out.push(`cpu,account=acct-${k % 500},host=h${k % 37} usage_user=${(k % 1000) / 10},usage_system=${k % 97}.25 ${ts}`);
    } else {
      out.push(`api,account=acct-${k % 500},region=eu-west-1 requests=${k % 5000}i,errors=${k % 7}i,healthy=t ${ts}`);
    }
  }
  return flat(out.join('\n'));
}

function bench(name: string, body: string): void {
  let points = 0;
  for (let w = 0; w < 3; w++) points = parseLineProtocol(body, { precision: 'ns', defaultTimeMs: 0 }).points.length;
  let best = Infinity;
  for (let r = 0; r < 5; r++) {
    const t0 = performance.now();
    parseLineProtocol(body, { precision: 'ns', defaultTimeMs: 0 });
    best = Math.min(best, performance.now() - t0);
  }
  const mb = body.length / 1e6;
  console.log(
    `${name.padEnd(8)} ${lines} lines, ${points} points, ${mb.toFixed(1)} MB: ` +
      `${best.toFixed(1)} ms, ${(((points / best) * 1000) / 1e6).toFixed(2)} M points/s, ${((mb / best) * 1000).toFixed(0)} MB/s`,
  );
}

bench('uniform', uniformBody(lines));
bench('mixed', mixedBody(lines));
