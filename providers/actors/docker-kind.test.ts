// The docker actor's kind cluster actions (OrgLoop's cluster.start / cluster.shutdown) against a
// fake kind executable run as a real child process, and OrgLoop's container.* names against the
// fake Docker Engine.

import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { installFakeKind, type FakeKind } from '../../test/fakes/kind.js';
import { startFakeDocker, type FakeDocker } from '../../test/fakes/docker.js';
import { makeCtx, makeDelivery, makeEvent } from '../lib/test-helpers/context.js';
import { dockerActor } from './docker.js';

let kind: FakeKind | undefined;
let docker: FakeDocker | undefined;
afterEach(async () => {
  kind?.close();
  await docker?.close();
  kind = undefined;
  docker = undefined;
});

const project = () => {
  const dir = mkdtempSync(join(tmpdir(), 'orgloop-kind-project-'));
  writeFileSync(join(dir, 'dev cluster; rm -rf.yaml'), 'kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\n');
  return dir;
};

describe('docker actor: kind cluster actions', () => {
  it('starts a cluster named by the event (argv, no shell), once across a retried delivery, and shuts it down', async () => {
    kind = installFakeKind();
    const dir = project();
    const ctx = makeCtx({ kind_path: kind.bin, cluster_name: '{{payload.cluster}}', config_path: 'dev cluster; rm -rf.yaml' }, { projectDir: dir });
    const event = makeEvent({ payload: { cluster: 'review-42' } });
    const start = makeDelivery({ event, routeConfig: { action: 'cluster.start' } });
    expect(await dockerActor.deliver(ctx, start)).toEqual({ ok: true });
    expect(kind.clusters()).toEqual(['review-42']);
    expect(kind.argv()).toEqual([
      ['get', 'clusters'],
      ['create', 'cluster', '--name', 'review-42', '--config', join(dir, 'dev cluster; rm -rf.yaml')],
    ]);
    // a redelivery (the executor died after kind finished) finds the cluster and succeeds
    expect(await dockerActor.deliver(ctx, start)).toEqual({ ok: true });
    expect(kind.argv().filter((a) => a[0] === 'create')).toHaveLength(1);
    expect(ctx.logged.some(([, msg]) => msg === 'kind cluster review-42 already exists')).toBe(true);

    const stop = makeDelivery({ event, routeConfig: { action: 'cluster.shutdown' } });
    expect(await dockerActor.deliver(ctx, stop)).toEqual({ ok: true });
    expect(kind.clusters()).toEqual([]);
    expect(kind.argv().at(-1)).toEqual(['delete', 'cluster', '--name', 'review-42']);
    // deleting a cluster that is gone already succeeds (kind's own behaviour)
    expect(await dockerActor.deliver(ctx, stop)).toEqual({ ok: true });
  });

  it('refuses a cluster name from an event that is not a kind name, before running anything', async () => {
    kind = installFakeKind();
    const marker = join(kind.dir, 'pwned');
    const ctx = makeCtx({ kind_path: kind.bin, action: 'cluster.start', cluster_name: '{{payload.cluster}}' });
    const r = await dockerActor.deliver(ctx, makeDelivery({ event: makeEvent({ payload: { cluster: `x$(touch ${marker})` } }) }));
    expect(r).toEqual({ ok: false, retryable: false, error: `kind: "x$(touch ${marker})" is not a cluster name (lower-case letters, digits, . and -)` });
    expect(kind.argv()).toEqual([]);
    expect(existsSync(marker)).toBe(false);
    expect(dockerActor.validate!({ cluster_name: 'Prod Cluster' })).toEqual([{ path: 'cluster_name', message: '"Prod Cluster" is not a kind cluster name (lower-case letters, digits, . and -)' }]);
  });

  it('without kind installed the delivery fails at once naming it; a missing config file too; a failing kind retries', async () => {
    const ctx = makeCtx({ kind_path: '/nonexistent/bin/kind', action: 'cluster.start' });
    expect(await dockerActor.deliver(ctx, makeDelivery())).toEqual({ ok: false, retryable: false, error: 'kind is not installed (/nonexistent/bin/kind is not on PATH; see https://kind.sigs.k8s.io)' });
    kind = installFakeKind();
    const missing = makeCtx({ kind_path: kind.bin, action: 'cluster.start', cluster_name: 'dev', config_path: 'nope.yaml' }, { projectDir: project() });
    expect(await dockerActor.deliver(missing, makeDelivery())).toEqual({ ok: false, retryable: false, error: 'kind: cluster config nope.yaml does not exist' });
    // kind itself failing is retryable, with the end of kind's message
    kind.failCreate();
    const failing = makeCtx({ kind_path: kind.bin, action: 'cluster.start', cluster_name: 'dev' });
    expect(await dockerActor.deliver(failing, makeDelivery())).toEqual({ ok: false, retryable: true, error: 'kind create cluster dev failed: ERROR: failed to create cluster: failed to init node with kubeadm: exit status 1' });
    expect(await dockerActor.deliver(makeCtx({ kind_path: kind.bin, action: 'cluster.explode' }), makeDelivery())).toMatchObject({ ok: false, retryable: false });
  });

  it("OrgLoop's container.* actions with container_name; doctor reports the engine and kind", async () => {
    docker = await startFakeDocker();
    const api = docker.addContainer('api', 'acme/api:1', true);
    const ctx = makeCtx({ socket: docker.socket, action: 'container.stop', container_name: 'api' });
    expect(await dockerActor.deliver(ctx, makeDelivery())).toEqual({ ok: true });
    expect(api.running).toBe(false);
    expect(await dockerActor.deliver(makeCtx({ socket: docker.socket, action: 'container.start', container_name: 'api' }), makeDelivery())).toEqual({ ok: true });
    expect(api.running).toBe(true);
    kind = installFakeKind();
    expect(await dockerActor.check!(makeCtx({ socket: docker.socket, kind_path: kind.bin, action: 'cluster.start' }))).toEqual({ ok: true, detail: 'Docker Engine 27.0.3 reachable; kind v0.23.0 go1.22.2 linux/amd64' });
    expect(await dockerActor.check!(makeCtx({ socket: docker.socket, kind_path: '/nonexistent/kind', cluster_name: 'dev' }))).toEqual({ ok: false, detail: 'kind is not installed (/nonexistent/kind is not on PATH; see https://kind.sigs.k8s.io)' });
  });
});
