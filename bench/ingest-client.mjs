// Load generator for the ingest benchmark, run as a separate process so the server under test
// has its event loop to itself. Generates line protocol for ACCOUNTS accounts (6 metrics each,
// the demo's metric names so every rule scores them) at 5-minute steps, then POSTs the bodies to
// URL with CONCURRENCY requests in flight, and prints one JSON line with the timings.
// Usage: node ingest-client.mjs URL ACCOUNTS TICKS TICKS_PER_REQUEST CONCURRENCY START_SECONDS
const [url, accountsArg, ticksArg, perReqArg, concArg, startArg] = process.argv.slice(2);
const accounts = Number(accountsArg);
const ticks = Number(ticksArg);
const perRequest = Number(perReqArg);
const concurrency = Number(concArg);
const start = Number(startArg);

let seed = 12345;
const rand = () => {
  seed = (seed * 1103515245 + 12345) & 0x7fffffff;
  return seed / 0x7fffffff;
};

const ids = Array.from({ length: accounts }, (_, i) => `bench-${String(i).padStart(5, '0')}`);
const bodies = [];
for (let t0 = 0; t0 < ticks; t0 += perRequest) {
  const parts = [];
  for (let t = t0; t < Math.min(ticks, t0 + perRequest); t++) {
    const ts = start + t * 300;
    const hour = (ts / 3600) % 24;
    const load = 0.3 + 0.7 * Math.exp(-((hour - 14) ** 2) / 18);
    for (const id of ids) {
      const req = Math.round(1000 * load * (0.95 + 0.1 * rand()));
      parts.push(
        `api,account=${id} requests=${req}i,errors=${Math.round(req * 0.005 * rand() * 2)}i,latency_p95_ms=${(200 * (0.9 + 0.2 * rand())).toFixed(1)} ${ts}\n` +
          `integration,account=${id} failures=${rand() < 0.1 ? 1 : 0}i ${ts}\n` +
          `quota,account=${id} used_ratio=${(0.4 + 0.01 * rand()).toFixed(4)} ${ts}\n` +
          `auth,account=${id} failures=${Math.round(2 * rand())}i ${ts}\n`,
      );
    }
  }
  bodies.push(parts.join(''));
}
const pointsPerTick = accounts * 6;

let next = 0;
let failed = 0;
const latencies = [];
const t0 = performance.now();
async function worker() {
  while (next < bodies.length) {
    const i = next++;
    const s = performance.now();
    const res = await fetch(`${url}/api/v2/write?precision=s`, { method: 'POST', body: bodies[i] });
    if (res.status !== 204) {
      failed++;
      process.stderr.write(`request ${i}: ${res.status} ${(await res.text()).slice(0, 300)}\n`);
    } else await res.arrayBuffer();
    latencies.push(performance.now() - s);
  }
}
await Promise.all(Array.from({ length: concurrency }, worker));
const seconds = (performance.now() - t0) / 1000;
latencies.sort((a, b) => a - b);
process.stdout.write(
  JSON.stringify({
    points: ticks * pointsPerTick,
    requests: bodies.length,
    failed,
    seconds,
    pointsPerRequest: perRequest * pointsPerTick,
    requestP50Ms: latencies[Math.floor(latencies.length * 0.5)],
    requestP99Ms: latencies[Math.floor(latencies.length * 0.99)],
  }) + '\n',
);
