/**
 * `forewarn run`: loads settings and rules (refusing to start on any error), builds the app and
 * serves it; SIGINT/SIGTERM stop it cleanly (outbox drained, checkpoints written).
 */
import { serve } from '@hono/node-server';
import { createForewarn } from '../app.ts';
import { loadRules } from '../config/load-rules.ts';
import { loadServerConfig } from '../config/server-config.ts';
import { createMetrics } from '../telemetry/metrics.ts';
import { startTracing } from '../telemetry/tracing.ts';

/** Runs the server until a signal stops it. */
export async function runServer(): Promise<number> {
  const config = loadServerConfig();
  const rules = loadRules(config.rulesDir);
  const tracing = startTracing();
  const fw = await createForewarn({ config, rules, metrics: createMetrics({ defaultMetrics: true }) });
  fw.start();
  const server = serve({ fetch: fw.app.fetch, hostname: config.host, port: config.port });
  await new Promise<void>((resolve, reject) => {
    server.once('listening', () => resolve());
    server.once('error', reject);
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : config.port;
  console.log(`forewarn: listening on http://${config.host}:${port} (rules ${config.rulesDir}, data ${config.dataDir})`);
  console.log(
    `forewarn: email ${config.smtpUrl ? `via SMTP ${config.smtpUrl.replace(/\/\/[^@/]*@/, '//***@')}` : `as .eml files in ${config.dataDir}/outbox`}`,
  );
  if (config.tokens.size === 0) console.log('forewarn: no FOREWARN_TOKENS configured: no authentication, listening on loopback only');
  if (tracing.enabled) console.log('forewarn: OpenTelemetry tracing on');
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  console.log('forewarn: shutting down');
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await fw.close();
  await tracing.shutdown();
  return 0;
}
