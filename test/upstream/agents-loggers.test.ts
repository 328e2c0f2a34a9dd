// OrgLoop's agent-ctl source, agent-gate transform and otel / syslog loggers, declared the way its
// READMEs and examples write them (package names, `type: package`, full README config blocks),
// load here unchanged. The project is ours, written from those documents.

import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadProject } from '../../engine/config/load.js';
import { ConfigError } from '../../engine/errors.js';

function project(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'orgloop-upstream-agents-'));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return join(dir, 'orgloop.yaml');
}

async function errors(file: string): Promise<string[]> {
  try {
    await loadProject(file, { env: {}, unsetVars: 'warn' });
    return [];
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return err.diagnostics.filter((d) => d.severity === 'error').map((d) => `${d.file ?? ''}:${d.line}:${d.col}: ${d.message}`);
  }
}

const files = {
  'orgloop.yaml': [
    'apiVersion: orgloop/v1alpha1',
    'kind: Project',
    'metadata:',
    '  name: agent-supervision',
    'connectors:',
    '  - connectors/agents.yaml',
    'transforms:',
    '  - transforms/gate.yaml',
    'loggers:',
    '  - loggers/observability.yaml',
    '',
  ].join('\n'),
  'connectors/agents.yaml': [
    'apiVersion: orgloop/v1alpha1',
    'kind: ConnectorGroup',
    'sources:',
    '  - id: agent-sessions',
    '    description: coding-agent sessions from agent-ctl',
    '    connector: "@orgloop/connector-agent-ctl"',
    '    config:',
    '      binary_path: ~/bin/agent-ctl',
    '      timeout: 10000',
    '    poll:',
    '      interval: 30s',
    'actors:',
    '  - id: supervisor',
    '    connector: "@orgloop/connector-webhook"',
    '    config:',
    '      url: "http://127.0.0.1:9/supervisor"',
    'routes:',
    '  - name: all agents done',
    '    when:',
    '      source: agent-sessions',
    '      events: [actor.stopped]',
    '    transforms:',
    '      - ref: wait-for-last-agent',
    '    then:',
    '      actor: supervisor',
    '',
  ].join('\n'),
  'transforms/gate.yaml': [
    'apiVersion: orgloop/v1alpha1',
    'kind: TransformGroup',
    'transforms:',
    '  - name: wait-for-last-agent',
    '    type: package',
    '    package: "@orgloop/transform-agent-gate"',
    '    config:',
    '      binary_path: agent-ctl',
    '      adapter_filter: claude-code',
    '      active_statuses: [running]',
    '      timeout: 5000',
    '',
  ].join('\n'),
  'loggers/observability.yaml': [
    'apiVersion: orgloop/v1alpha1',
    'kind: LoggerGroup',
    'loggers:',
    '  - name: otel',
    '    type: "@orgloop/logger-otel"',
    '    config:',
    '      endpoint: "http://localhost:4318/v1/logs"',
    '      protocol: "http/json"',
    '      service_name: orgloop',
    '      service_version: "0.1.0"',
    '      headers:',
    '        Authorization: "Bearer ${OTEL_TOKEN}"',
    '      resource_attributes:',
    '        deployment.environment: production',
    '      batch:',
    '        max_queue_size: 2048',
    '        scheduled_delay_ms: 5000',
    '        max_export_batch_size: 512',
    '  - name: syslog',
    '    type: "@orgloop/logger-syslog"',
    '    config:',
    '      transport: udp',
    '      host: "127.0.0.1"',
    '      port: 514',
    '      path: "/dev/log"',
    '      facility: local0',
    '      app_name: orgloop',
    '      include_structured_data: true',
    '',
  ].join('\n'),
};

describe("OrgLoop's agent-ctl, agent-gate, otel and syslog shapes", () => {
  it('load unchanged (validate without secrets)', async () => {
    expect(await errors(project(files))).toEqual([]);
    // the spec page's shapes (docs-site spec/loggers.md): syslog over tls with a format, otel over gRPC
    const spec = {
      ...files,
      'loggers/observability.yaml': files['loggers/observability.yaml']
        .replace('      transport: udp\n', '      protocol: tls\n      format: rfc5424\n')
        .replace('      port: 514\n', '      port: 6514\n')
        .replace('"http://localhost:4318/v1/logs"', '"grpc://localhost:4317"')
        .replace('protocol: "http/json"', 'protocol: grpc'),
    };
    expect(await errors(project(spec))).toEqual([]);
  });

  it('a value we cannot honour is an error that names what differs', async () => {
    const bad = { ...files, 'loggers/observability.yaml': files['loggers/observability.yaml'].replace('protocol: "http/json"', 'protocol: grpc') };
    const errs = await errors(project(bad));
    expect(errs).toHaveLength(1);
    // OrgLoop's logger sends OTLP/HTTP JSON to /v1/logs whatever `protocol` says; ours speaks gRPC,
    // whose endpoint has no path: the line of the endpoint is named, with what differs
    expect(errs[0]).toMatch(/observability\.yaml:7:\d+: .*with protocol: grpc, endpoint is the collector's address \(host and port, usually :4317\) and takes no path; \/v1\/logs is an OTLP\/HTTP path \(OrgLoop's logger sends OTLP\/HTTP JSON to it whatever protocol says/);
    const grpc = { ...files, 'loggers/observability.yaml': files['loggers/observability.yaml'].replace('protocol: "http/json"', 'protocol: grpc').replace('http://localhost:4318/v1/logs', 'grpc://localhost:4317') };
    expect(await errors(project(grpc))).toEqual([]);
    // a key agent-gate does not know: OrgLoop's refuses to start; here it is a validate warning,
    // as for every provider (engine/config/resources.ts)
    const unknownKey = { ...files, 'transforms/gate.yaml': files['transforms/gate.yaml'].replace('timeout: 5000', 'timeout: 5000\n      max_sessions: 2') };
    const loaded = await loadProject(project(unknownKey), { env: {}, unsetVars: 'warn' });
    expect(loaded.warnings.map((w) => w.message)).toContain('transform "wait-for-last-agent": unknown field config.max_sessions (ignored)');
  });
});
