/**
 * Starts a real VictoriaMetrics (Debian package `victoria-metrics`, /usr/bin/victoria-metrics) on a
 * free loopback port with a temporary data folder, for tests; stops it and removes the folder.
 * If the binary is missing, the error says how to install it (CI installs it in .ci/run).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

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
