/**
 * The docker-compose stack, checked without a Docker engine: the compose file parses; every
 * mounted host file and folder exists; every ${VAR} it references is documented in the README's
 * docker compose section; host ports do not clash; depends_on names services; images are pinned;
 * the services find each other (scrape target, datasource URL, INFLUX_URL, SMTP_URL, the
 * dashboards folder); and the mounted init SQL really creates the sample usage table, run against
 * the PostgreSQL on loopback.
 */
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { connectTestPostgres } from '../support/postgres.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const COMPOSE_FILE = path.join(ROOT, 'docker-compose.yml');
const composeText = fs.readFileSync(COMPOSE_FILE, 'utf8');

interface Service {
  image?: string;
  build?: string | { context?: string; dockerfile?: string };
  command?: string | string[];
  environment?: Record<string, string | number | boolean | null> | string[];
  volumes?: Array<string | { type?: string; source?: string; target?: string }>;
  ports?: Array<string | number | { target?: number; published?: number | string; host_ip?: string; protocol?: string }>;
  depends_on?: string[] | Record<string, { condition?: string }>;
}

interface Compose {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
}

const compose = parse(composeText) as Compose;
const services = Object.entries(compose.services);

/** Every `${VAR...}` or `$VAR` reference of a compose file (`$$` is a literal dollar). */
function referencedVariables(text: string): string[] {
  const vars = new Set<string>();
  const re = /\$(\$|\{([A-Za-z_][A-Za-z0-9_]*)[^}]*\}|([A-Za-z_][A-Za-z0-9_]*))/g;
  // comments are not interpolated
  const body = text
    .split('\n')
    .map((l) => (l.trimStart().startsWith('#') ? '' : l))
    .join('\n');
  for (const m of body.matchAll(re)) {
    const name = m[2] ?? m[3];
    if (name) vars.add(name);
  }
  return [...vars].sort();
}

/** Resolves `${VAR:-default}` / `${VAR-default}` to its default (the value without a .env file). */
function withDefaults(value: string): string {
  return value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?-([^}]*))?\}/g, (_, _name: string, def: string | undefined) => def ?? '');
}

function envOf(service: Service): Record<string, string> {
  const env = service.environment ?? {};
  if (Array.isArray(env)) {
    return Object.fromEntries(
      env.map((e) => {
        const i = e.indexOf('=');
        return i < 0 ? [e, ''] : [e.slice(0, i), withDefaults(e.slice(i + 1))];
      }),
    );
  }
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, withDefaults(String(v ?? ''))]));
}

interface Mount {
  service: string;
  source: string;
  target: string;
  bind: boolean;
}

function mountsOf(name: string, service: Service): Mount[] {
  return (service.volumes ?? []).map((v) => {
    if (typeof v === 'string') {
      const [source = '', target = ''] = v.split(':');
      return { service: name, source, target, bind: source.startsWith('.') || source.startsWith('/') || source.startsWith('~') };
    }
    return { service: name, source: v.source ?? '', target: v.target ?? '', bind: v.type === 'bind' };
  });
}

const allMounts = services.flatMap(([name, s]) => mountsOf(name, s));

interface HostPort {
  service: string;
  ip: string;
  port: number;
  protocol: string;
  container: number;
}

/** The host side of a port mapping; undefined when only a container port is given (no host port). */
function hostPort(service: string, spec: HostPortSpec): HostPort | undefined {
  if (typeof spec === 'number') return undefined;
  if (typeof spec === 'object') {
    if (spec.published === undefined) return undefined;
    return {
      service,
      ip: spec.host_ip ?? '0.0.0.0',
      port: Number(withDefaults(String(spec.published))),
      protocol: spec.protocol ?? 'tcp',
      container: Number(spec.target),
    };
  }
  const [mapping = '', protocol = 'tcp'] = withDefaults(spec).split('/');
  const parts = mapping.split(':');
  if (parts.length === 1) return undefined;
  const container = Number(parts[parts.length - 1]);
  const port = Number(parts[parts.length - 2]);
  const ip = parts.length >= 3 ? parts.slice(0, -2).join(':') : '0.0.0.0';
  return { service, ip, port, protocol, container };
}
type HostPortSpec = string | number | { target?: number; published?: number | string; host_ip?: string; protocol?: string };

const hostPorts = services.flatMap(([name, s]) => (s.ports ?? []).flatMap((p) => hostPort(name, p) ?? []));

/** The text of the README section whose heading mentions docker compose (up to the next heading of the same level). */
function composeSection(readme: string): string | undefined {
  const lines = readme.split('\n');
  const start = lines.findIndex((l) => /^#{1,6}\s.*docker[ -]compose/i.test(l));
  if (start < 0) return undefined;
  const level = /^(#+)/.exec(lines[start]!)![1]!.length;
  let end = lines.length;
  for (let i = start + 1; i < lines.length; i++) {
    const m = /^(#+)\s/.exec(lines[i]!);
    if (m && m[1]!.length <= level) {
      end = i;
      break;
    }
  }
  return lines.slice(start, end).join('\n');
}

describe('docker-compose.yml', () => {
  it('declares the five services of the stack', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['forewarn', 'grafana', 'mailpit', 'postgres', 'victoriametrics']);
  });

  it.each(allMounts.filter((m) => m.bind).map((m) => [m.service, m.source, m.target] as const))(
    '%s: mounted host path %s (-> %s) exists',
    (_service, source) => {
      expect(fs.existsSync(path.resolve(ROOT, source)), `${source} is mounted but does not exist`).toBe(true);
    },
  );

  it('declares every named volume it mounts', () => {
    const named = allMounts.filter((m) => !m.bind && m.source !== '').map((m) => m.source);
    expect(named.length).toBeGreaterThan(0);
    for (const v of named) expect(Object.keys(compose.volumes ?? {}), `volume ${v}`).toContain(v);
  });

  it('builds forewarn from a Dockerfile that runs `npx forewarn run` on node:20-slim', () => {
    const build = compose.services.forewarn?.build;
    const context = typeof build === 'string' ? build : (build?.context ?? '.');
    const dockerfile = path.resolve(ROOT, context, typeof build === 'object' ? (build.dockerfile ?? 'Dockerfile') : 'Dockerfile');
    expect(fs.existsSync(dockerfile)).toBe(true);
    const text = fs.readFileSync(dockerfile, 'utf8');
    expect(text).toMatch(/^FROM node:20-slim\b/m);
    expect(text).toMatch(/npm ci\b/);
    expect(text).toMatch(/^CMD \[\s*"npx",(\s*"--offline",)?\s*"forewarn",\s*"run"\s*\]/m);
    // every path the image copies from the build context exists
    for (const m of text.matchAll(/^COPY (?!--from)(.+) \S+$/gm)) {
      for (const src of m[1]!.trim().split(/\s+/)) expect(fs.existsSync(path.resolve(ROOT, context, src)), `COPY ${src}`).toBe(true);
    }
  });

  it('documents every ${VAR} it references in the README docker compose section', () => {
    const vars = referencedVariables(composeText);
    expect(vars).toEqual(expect.arrayContaining(['FOREWARN_TOKENS', 'POSTGRES_PASSWORD']));
    const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    const section = composeSection(readme);
    expect(section, 'README.md has no section whose heading mentions "docker compose"').toBeDefined();
    const missing = vars.filter((v) => !new RegExp(`\\b${v}\\b`).test(section!));
    expect(missing, `variables referenced in docker-compose.yml but not documented in the README's docker compose section`).toEqual([]);
    expect(section).toMatch(/docker compose up/);
    for (const port of ['3000', '8025', '8086', '8428']) expect(section).toContain(`:${port}`);
  });

  it('publishes no host port twice', () => {
    expect(hostPorts.length).toBeGreaterThanOrEqual(5);
    const clashes: string[] = [];
    for (const [i, a] of hostPorts.entries()) {
      for (const b of hostPorts.slice(i + 1)) {
        const sameIp = a.ip === b.ip || a.ip === '0.0.0.0' || b.ip === '0.0.0.0';
        if (a.port === b.port && a.protocol === b.protocol && sameIp)
          clashes.push(`${a.service} and ${b.service} both publish ${a.port}/${a.protocol}`);
      }
    }
    expect(clashes).toEqual([]);
  });

  it.each([
    ['forewarn', 8086, 8086],
    ['grafana', 3000, 3000],
    ['mailpit', 8025, 8025],
    ['victoriametrics', 8428, 8428],
  ])('%s is reachable on host port %i', (service, port, container) => {
    expect(hostPorts.find((p) => p.service === service && p.port === port)?.container).toBe(container);
  });

  it('depends_on names only existing services', () => {
    for (const [name, s] of services) {
      const deps = Array.isArray(s.depends_on) ? s.depends_on : Object.keys(s.depends_on ?? {});
      for (const d of deps) {
        expect(compose.services, `${name} depends on unknown service ${d}`).toHaveProperty(d);
        expect(d).not.toBe(name);
      }
      // a service_healthy condition needs a healthcheck on the dependency
      if (!Array.isArray(s.depends_on)) {
        for (const [d, c] of Object.entries(s.depends_on ?? {})) {
          if (c.condition === 'service_healthy')
            expect((compose.services[d] as { healthcheck?: unknown }).healthcheck, `${d} has no healthcheck`).toBeDefined();
        }
      }
    }
  });

  it.each(services.filter(([, s]) => s.image !== undefined).map(([n, s]) => [n, s.image!] as const))(
    '%s: image %s is pinned to a version tag',
    (_name, image) => {
      const digest = image.includes('@sha256:');
      const tag = /:([^/:@]+)$/.exec(image)?.[1];
      expect(digest || (tag !== undefined && tag !== 'latest'), `${image} is not pinned`).toBe(true);
    },
  );

  it('gives every service an image or a build', () => {
    for (const [name, s] of services) expect(s.image ?? s.build, name).toBeDefined();
  });

  it('points forewarn at VictoriaMetrics, Mailpit and the sample database by service name', () => {
    const env = envOf(compose.services.forewarn!);
    expect(env.FOREWARN_STORE).toBe('influx');
    const influx = new URL(env.INFLUX_URL!);
    expect(influx.hostname).toBe('victoriametrics');
    expect(influx.port).toBe('8428');
    const smtp = new URL(env.SMTP_URL!);
    expect(smtp.protocol).toBe('smtp:');
    expect(smtp.hostname).toBe('mailpit');
    expect(smtp.port).toBe('1025');
    // the default tokens satisfy forewarn's own rules (role:token, >= 8 characters)
    expect(env.FOREWARN_TOKENS!.split(',').map((t) => t.split(':')[0])).toEqual(['admin', 'ingest', 'read']);
    for (const t of env.FOREWARN_TOKENS!.split(',')) expect(t.split(':')[1]!.length).toBeGreaterThanOrEqual(8);
    const pgEnv = envOf(compose.services.postgres!);
    const db = new URL(env.FOREWARN_USAGE_DB_URL!);
    expect([db.hostname, db.port, db.username, decodeURIComponent(db.password), db.pathname]).toEqual([
      'postgres',
      '5432',
      pgEnv.POSTGRES_USER,
      pgEnv.POSTGRES_PASSWORD,
      `/${pgEnv.POSTGRES_DB}`,
    ]);
    // the pull sources mounted over rules/sources.yaml read their URLs from variables the service sets
    const rulesMount = allMounts.find((m) => m.service === 'forewarn' && m.target === `${env.FOREWARN_RULES_DIR}/sources.yaml`);
    expect(rulesMount, 'no sources.yaml mounted into the rules folder').toBeDefined();
    const sources = (
      parse(fs.readFileSync(path.resolve(ROOT, rulesMount!.source), 'utf8')) as { sources: Array<{ url_env?: string; enabled?: boolean }> }
    ).sources;
    expect(sources.filter((x) => x.enabled !== false).length).toBeGreaterThan(0);
    for (const src of sources) if (src.url_env) expect(env, `url_env ${src.url_env}`).toHaveProperty(src.url_env);
  });

  it('has VictoriaMetrics scrape forewarn:/metrics through the mounted scrape config', () => {
    const vm = compose.services.victoriametrics!;
    const args = Array.isArray(vm.command) ? vm.command : String(vm.command ?? '').split(/\s+/);
    const flag = args.find((a) => a.startsWith('-promscrape.config='));
    expect(flag).toBeDefined();
    const inContainer = flag!.slice('-promscrape.config='.length);
    const mount = allMounts.find((m) => m.service === 'victoriametrics' && m.target === inContainer);
    expect(mount, `${inContainer} is not mounted into victoriametrics`).toBeDefined();
    const scrape = parse(fs.readFileSync(path.resolve(ROOT, mount!.source), 'utf8')) as {
      scrape_configs: Array<{ job_name: string; metrics_path?: string; static_configs: Array<{ targets: string[] }> }>;
    };
    const job = scrape.scrape_configs.find((j) => j.static_configs.some((c) => c.targets.includes('forewarn:8086')));
    expect(job, 'no scrape job targets forewarn:8086').toBeDefined();
    expect(job!.metrics_path ?? '/metrics').toBe('/metrics');
    expect(hostPorts.find((p) => p.service === 'forewarn')?.container).toBe(Number(envOf(compose.services.forewarn!).PORT ?? 8086));
  });

  it('mounts the Grafana provisioning and the dashboards folder the provider reads', () => {
    const grafana = mountsOf('grafana', compose.services.grafana!);
    const target = (t: string) => grafana.find((m) => m.target === t);
    expect(path.resolve(ROOT, target('/etc/grafana/provisioning/datasources')!.source)).toBe(
      path.join(ROOT, 'dashboards/provisioning/datasources'),
    );
    expect(path.resolve(ROOT, target('/etc/grafana/provisioning/dashboards')!.source)).toBe(
      path.join(ROOT, 'dashboards/provisioning/dashboards'),
    );
    const provider = parse(fs.readFileSync(path.join(ROOT, 'dashboards/provisioning/dashboards/forewarn.yaml'), 'utf8')) as {
      providers: Array<{ options: { path: string } }>;
    };
    for (const p of provider.providers) {
      const m = grafana.find((x) => x.target === p.options.path);
      expect(m, `provider path ${p.options.path} is not mounted`).toBeDefined();
      expect(path.resolve(ROOT, m!.source)).toBe(path.join(ROOT, 'dashboards'));
    }
    const ds = parse(fs.readFileSync(path.join(ROOT, 'dashboards/provisioning/datasources/victoriametrics.yaml'), 'utf8')) as {
      datasources: Array<{ url: string }>;
    };
    for (const d of ds.datasources) expect(compose.services).toHaveProperty(new URL(d.url).hostname);
    const env = envOf(compose.services.grafana!);
    expect(env.GF_AUTH_ANONYMOUS_ENABLED).toBe('true');
    expect(env.GF_AUTH_ANONYMOUS_ORG_ROLE).toBe('Viewer');
  });
});

describe('deploy/postgres/init.sql (the sample pull source)', () => {
  it('creates usage_events(id, account, metric, ts, value, updated_at) with rows, on the real PostgreSQL', async () => {
    const mount = allMounts.find((m) => m.service === 'postgres' && m.target.startsWith('/docker-entrypoint-initdb.d/'));
    expect(mount).toBeDefined();
    const sql = fs.readFileSync(path.resolve(ROOT, mount!.source), 'utf8');
    // fails with how to start PostgreSQL when it is not running
    const { client: admin, url } = await connectTestPostgres();
    const dbName = `forewarn_compose_${process.pid}`;
    try {
      await admin.query(`DROP DATABASE IF EXISTS ${dbName}`);
      await admin.query(`CREATE DATABASE ${dbName}`);
      const dbUrl = new URL(url);
      dbUrl.pathname = `/${dbName}`;
      const db = new pg.Client({ connectionString: dbUrl.toString() });
      await db.connect();
      try {
        await db.query(sql);
        const cols = await db.query<{ column_name: string }>(
          `SELECT column_name FROM information_schema.columns WHERE table_name = 'usage_events' ORDER BY column_name`,
        );
        expect(cols.rows.map((r) => r.column_name)).toEqual(['account', 'id', 'metric', 'ts', 'updated_at', 'value']);
        const stats = await db.query<{ n: string; accounts: string; metrics: string; newest: Date }>(
          `SELECT count(*) AS n, count(DISTINCT account) AS accounts, count(DISTINCT metric) AS metrics, max(updated_at) AS newest FROM usage_events`,
        );
        const row = stats.rows[0]!;
        expect(Number(row.n)).toBeGreaterThan(100);
        expect(Number(row.accounts)).toBeGreaterThanOrEqual(3);
        expect(Number(row.metrics)).toBeGreaterThanOrEqual(2);
        // recent enough to be scored as live data, never in the future
        expect(Date.now() - row.newest.getTime()).toBeLessThan(2 * 3_600_000);
        // an update moves the row past an incremental cursor again
        const before = await db.query<{ id: string; updated_at: Date }>(`SELECT id, updated_at FROM usage_events ORDER BY id LIMIT 1`);
        await db.query(`UPDATE usage_events SET value = value + 1 WHERE id = $1`, [before.rows[0]!.id]);
        const after = await db.query<{ updated_at: Date }>(`SELECT updated_at FROM usage_events WHERE id = $1`, [before.rows[0]!.id]);
        expect(after.rows[0]!.updated_at.getTime()).toBeGreaterThan(before.rows[0]!.updated_at.getTime());
      } finally {
        await db.end();
      }
    } finally {
      await admin.query(`DROP DATABASE IF EXISTS ${dbName}`).catch(() => undefined);
      await admin.end();
    }
  });
});
