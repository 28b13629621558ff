/**
 * Starts a real VictoriaMetrics (Debian package `victoria-metrics`, /usr/bin/victoria-metrics) on a
 * free loopback port with a temporary data folder, for tests; stops it and removes the folder.
 * If the binary is missing, the error says how to install it (CI installs it in .ci/run).
 * `useVictoriaMetrics` does the same for every test of a file, with temporary folders beside it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll } from 'vitest';

export const VICTORIA_METRICS_BIN = process.env.VICTORIA_METRICS_BIN ?? '/usr/bin/victoria-metrics';

export interface VictoriaMetrics {
  url: string;
  port: number;
  dataDir: string;
  /** makes recently written points visible to queries at once */
  flush(): Promise<void>;
  /** stops the process (data folder kept, so `start()` again continues with the same data) */
  stop(): Promise<void>;
  /** starts it again on the same port and data folder */
  start(): Promise<void>;
  /** stops and removes the data folder */
  destroy(): Promise<void>;
}

/** A free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

async function waitHealthy(url: string, proc: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) throw new Error(`victoria-metrics exited with code ${proc.exitCode}:\n${log()}`);
    try {
      const res = await fetch(`${url}/health`);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`victoria-metrics did not become healthy at ${url} within 20 s:\n${log()}`);
}

/** Starts VictoriaMetrics for a test. */
export async function startVictoriaMetrics(extraFlags: string[] = []): Promise<VictoriaMetrics> {
  if (!fs.existsSync(VICTORIA_METRICS_BIN)) {
    throw new Error(
      `victoria-metrics not found at ${VICTORIA_METRICS_BIN}: install it with 'apt-get install victoria-metrics' (.ci/run does) or set VICTORIA_METRICS_BIN`,
    );
  }
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'forewarn-vm-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  let proc: ChildProcess | undefined;
  let output = '';
  const start = async () => {
    output = '';
    proc = spawn(
      VICTORIA_METRICS_BIN,
      [
        `-storageDataPath=${dataDir}`,
        `-httpListenAddr=127.0.0.1:${port}`,
        '-retentionPeriod=100y',
        '-search.latencyOffset=0s',
        '-search.disableCache',
        '-loggerLevel=ERROR',
        ...extraFlags,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    proc.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    proc.stderr?.on('data', (d: Buffer) => (output += d.toString()));
    await waitHealthy(url, proc, () => output.slice(-2000));
  };
  const stop = async () => {
    const p = proc;
    if (!p || p.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      p.once('exit', () => resolve());
      p.kill('SIGINT');
      setTimeout(() => p.kill('SIGKILL'), 10_000).unref();
    });
  };
  await start();
  return {
    url,
    port,
    dataDir,
    flush: async () => {
      await fetch(`${url}/internal/force_flush`);
    },
    stop,
    start,
    destroy: async () => {
      await stop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** What {@link useVictoriaMetrics} gives a test file. */
export interface VictoriaMetricsFixture {
  /** the server of this file, started before its first test (read its fields inside tests and hooks) */
  vm: VictoriaMetrics;
  /** a fresh temporary folder, removed after the file's last test */
  tempDir: (prefix?: string) => string;
}

/**
 * Starts one VictoriaMetrics before the tests of the calling file and destroys it after them,
 * together with every folder made with `tempDir`. Call it at the top level of a test file.
 */
export function useVictoriaMetrics(extraFlags: string[] = []): VictoriaMetricsFixture {
  let server: VictoriaMetrics | undefined;
  const dirs: string[] = [];
  beforeAll(async () => {
    server = await startVictoriaMetrics(extraFlags);
  });
  afterAll(async () => {
    await server?.destroy();
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  });
  const started = (): VictoriaMetrics => {
    if (!server) throw new Error('victoria-metrics is not started yet: use it inside a test or hook');
    return server;
  };
  return {
    vm: {
      get url() {
        return started().url;
      },
      get port() {
        return started().port;
      },
      get dataDir() {
        return started().dataDir;
      },
      flush: () => started().flush(),
      stop: () => started().stop(),
      start: () => started().start(),
      destroy: () => started().destroy(),
    },
    tempDir: (prefix = 'forewarn-influx-') => {
      const d = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
      dirs.push(d);
      return d;
    },
  };
}
