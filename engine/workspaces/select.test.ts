// Where each workspace's state and files are, which workspace is chosen, and what a workspace's
// project values resolve to: the mappings every command relies on, without processes.

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { statePath } from '../workspace.js';
import { daemonPaths } from '../daemon/daemon.js';
import { serviceSpec } from '../daemon/service.js';
import { projectEnv } from '../config/env.js';
import { effectiveDefaults } from '../config/workspace-defaults.js';
import { resolveWorkspace, writeSelection } from './select.js';

describe('workspace state locations', () => {
  const config = '/p/orgloop.yaml';
  it('default keeps the location it had; another workspace sits beside it in workspaces/NAME/', () => {
    expect(statePath({ config })).toBe('/p/.orgloop/state.db');
    expect(statePath({ config, workspace: 'default' })).toBe('/p/.orgloop/state.db');
    expect(statePath({ config, workspace: 'staging' })).toBe('/p/.orgloop/workspaces/staging/state.db');
    expect(statePath({ config, state: '/data/prod.db', workspace: 'staging' })).toBe('/data/workspaces/staging/prod.db');
  });

  it('on Postgres a workspace is a schema: <base>_ws_<name>, orgloop_ws_<name> without ?schema=', () => {
    const url = 'postgres://u:secret@db:5432/org';
    expect(statePath({ config, state: url })).toBe(url);
    expect(statePath({ config, state: url, workspace: 'staging' })).toBe('postgres://u:secret@db:5432/org?schema=orgloop_ws_staging');
    expect(statePath({ config, state: `${url}?schema=team&sslmode=require`, workspace: 'qa' })).toBe('postgres://u:secret@db:5432/org?schema=team_ws_qa&sslmode=require');
  });

  it('pid file, log and service name carry the workspace', () => {
    expect(daemonPaths(config)).toEqual({ dir: '/p/.orgloop', pidFile: '/p/.orgloop/orgloop.pid', logFile: '/p/.orgloop/orgloop.log' });
    expect(daemonPaths(config, 'staging').pidFile).toBe('/p/.orgloop/workspaces/staging/orgloop.pid');
    const spec = (workspace?: string) =>
      serviceSpec({ platform: 'systemd', project: 'Shop', configFile: config, args: ['start'], node: 'node', cli: 'cli.js', env: { HOME: '/h' }, logFile: 'l', workspace });
    expect(spec().name).toMatch(/^orgloop-shop-[0-9a-f]{8}$/);
    expect(spec('eu_prod').name).toMatch(/^orgloop-shop-eu-prod-[0-9a-f]{8}$/);
    expect(spec('eu_prod').command).toEqual(['node', 'cli.js', '-c', config, '--workspace', 'eu_prod', 'start']);
  });
});

describe('choosing the workspace', () => {
  it('--workspace, then ORGLOOP_WORKSPACE, then .orgloop/workspace, then default', () => {
    const dir = mkdtempSync(join(tmpdir(), 'orgloop-ws-'));
    const configFile = join(dir, 'orgloop.yaml');
    expect(resolveWorkspace({ env: {}, configFile })).toEqual({ name: 'default', from: 'default' });
    writeSelection(configFile, 'qa');
    expect(resolveWorkspace({ env: {}, configFile })).toEqual({ name: 'qa', from: 'selected' });
    expect(resolveWorkspace({ env: { ORGLOOP_WORKSPACE: 'prod' }, configFile })).toEqual({ name: 'prod', from: 'env' });
    expect(resolveWorkspace({ flag: 'dev', env: { ORGLOOP_WORKSPACE: 'prod' }, configFile })).toEqual({ name: 'dev', from: 'flag' });
    expect(() => resolveWorkspace({ flag: '../etc', env: {}, configFile })).toThrow('--workspace "../etc" is not valid');
  });
});

describe('values per workspace', () => {
  it('workspaces.NAME.defaults replaces defaults key by key and says where each came from', () => {
    const top = { defaults: { port: 4800, retry: ['1s'], poll_interval: '1m' }, workspaces: { staging: { defaults: { port: 4810, retry: ['5s', '10s'] } } } };
    const s = effectiveDefaults(top, 'staging');
    expect(s.values).toEqual({ port: 4810, retry: ['5s', '10s'], poll_interval: '1m' });
    expect(s.path('port')).toEqual(['workspaces', 'staging', 'defaults', 'port']);
    expect(s.path('poll_interval')).toEqual(['defaults', 'poll_interval']);
    expect(effectiveDefaults(top, 'default').values).toEqual(top.defaults);
    expect(effectiveDefaults(top, undefined).values).toEqual(top.defaults);
  });

  it('.env.NAME comes between the shell and .env', () => {
    const dir = mkdtempSync(join(tmpdir(), 'orgloop-ws-env-'));
    writeFileSync(join(dir, '.env'), 'TIER=prod\nONLY_BASE=b\n');
    writeFileSync(join(dir, '.env.staging'), 'TIER=test\n');
    const staging = projectEnv(dir, { ORGLOOP_WORKSPACE: 'staging' });
    expect([staging('TIER'), staging('ONLY_BASE'), staging('ORGLOOP_WORKSPACE')]).toEqual(['test', 'b', 'staging']);
    expect(projectEnv(dir, { ORGLOOP_WORKSPACE: 'staging', TIER: 'shell' })('TIER')).toBe('shell');
    expect(projectEnv(dir, { ORGLOOP_WORKSPACE: 'default' })('TIER')).toBe('prod');
    expect(projectEnv(dir, {})('TIER')).toBe('prod');
  });
});
