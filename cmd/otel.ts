// Trace export, configured the standard way: OpenTelemetry's own OTEL_* variables. Off unless
// they ask for traces (OTEL_TRACES_EXPORTER=otlp|console, or an OTLP endpoint is set); then a
// tracer provider with a batching OTLP/HTTP (or console) exporter is registered globally and the
// executor records its spans through @opentelemetry/api. The SDK is loaded only then.

import { Tracing } from '../engine/run/tracing.js';

export interface TraceExport {
  tracing: Tracing;
  /** flushes spans still buffered; call before exit */
  shutdown(): Promise<void>;
  /** what was set up, for the start-up banner; null when off */
  describe: string | null;
}

/** Which exporter OTEL_* asks for, or null when traces are off. */
export function traceExporterFromEnv(env: NodeJS.ProcessEnv): 'otlp' | 'console' | null {
  if ((env.OTEL_SDK_DISABLED ?? '').trim().toLowerCase() === 'true') return null;
  const named = (env.OTEL_TRACES_EXPORTER ?? '').split(',').map((s) => s.trim().toLowerCase()).filter(Boolean);
  if (named.includes('none')) return null;
  if (named.includes('otlp')) return 'otlp';
  if (named.includes('console')) return 'console';
  if (named.length > 0) return null;
  return env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || env.OTEL_EXPORTER_OTLP_ENDPOINT ? 'otlp' : null;
}

export async function setupTraceExport(env: NodeJS.ProcessEnv, version: string): Promise<TraceExport> {
  const kind = traceExporterFromEnv(env);
  if (!kind) return { tracing: new Tracing(false), shutdown: async () => {}, describe: null };
  const { trace } = await import('@opentelemetry/api');
  const { BasicTracerProvider, BatchSpanProcessor, ConsoleSpanExporter } = await import('@opentelemetry/sdk-trace-base');
  const { resourceFromAttributes } = await import('@opentelemetry/resources');
  let exporter;
  if (kind === 'otlp') {
    const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-http');
    exporter = new OTLPTraceExporter(); // endpoint, headers, timeout from OTEL_EXPORTER_OTLP_*
  } else exporter = new ConsoleSpanExporter();
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': env.OTEL_SERVICE_NAME || 'orgloop', 'service.version': version }),
    spanProcessors: [new BatchSpanProcessor(exporter)],
  });
  trace.setGlobalTracerProvider(provider);
  const endpoint = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || (env.OTEL_EXPORTER_OTLP_ENDPOINT ? `${env.OTEL_EXPORTER_OTLP_ENDPOINT.replace(/\/$/, '')}/v1/traces` : 'http://localhost:4318/v1/traces');
  return {
    tracing: new Tracing(true, provider.getTracer('orgloop', version)),
    shutdown: () => provider.shutdown().catch(() => undefined),
    describe: kind === 'otlp' ? `traces exported over OTLP/HTTP to ${redact(endpoint)}` : 'traces printed to the console',
  };
}

/** An endpoint URL without credentials, for output. */
function redact(url: string): string {
  return url.replace(/\/\/[^/@]*@/, '//***@');
}
