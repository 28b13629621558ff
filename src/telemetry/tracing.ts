/**
 * OpenTelemetry tracing, off unless configured with the standard OTEL_* variables
 * (OTEL_TRACES_EXPORTER, OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT).
 * Spans: `forewarn.ingest.batch`, `forewarn.signal.decide`, `forewarn.advisory.deliver`.
 */
import { NodeSDK } from '@opentelemetry/sdk-node';

export interface Tracing {
  enabled: boolean;
  shutdown(): Promise<void>;
}

/** True when the environment asks for traces. */
export function tracingRequested(env: Record<string, string | undefined> = process.env): boolean {
  if ((env.OTEL_SDK_DISABLED ?? '').toLowerCase() === 'true') return false;
  const exporter = (env.OTEL_TRACES_EXPORTER ?? '').trim();
  if (exporter !== '' && exporter !== 'none') return true;
  return Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
}

/** Starts the OpenTelemetry SDK when requested; metrics stay with prom-client on /metrics. */
export function startTracing(env: Record<string, string | undefined> = process.env): Tracing {
  if (!tracingRequested(env)) return { enabled: false, shutdown: async () => {} };
  if (!env.OTEL_SERVICE_NAME) process.env.OTEL_SERVICE_NAME = 'forewarn';
  // /metrics is served by prom-client; do not start a second metrics pipeline
  if (!env.OTEL_METRICS_EXPORTER) process.env.OTEL_METRICS_EXPORTER = 'none';
  if (!env.OTEL_LOGS_EXPORTER) process.env.OTEL_LOGS_EXPORTER = 'none';
  const sdk = new NodeSDK();
  sdk.start();
  return { enabled: true, shutdown: () => sdk.shutdown() };
}
