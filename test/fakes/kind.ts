// A fake `kind` binary (a real executable in a temp dir) for the docker actor's cluster actions:
// `kind version`, `kind get clusters` (one name a line; "No kind clusters found." on stderr),
// `kind create cluster --name N [--config F]` (fails like kind when N exists or F is unreadable)
// and `kind delete cluster --name N` (succeeds when N does not exist, as kind does); `failCreate()`
// makes create fail as a broken node bootstrap does. It records
// each argv as a JSON line, so tests see exactly what was run, and keeps clusters in a file.

import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const SCRIPT = `#!/usr/bin/env node
const fs = require('fs');
const path = require('path');
const dir = path.dirname(fs.realpathSync(process.argv[1]));
const args = process.argv.slice(2);
fs.appendFileSync(path.join(dir, 'argv.jsonl'), JSON.stringify(args) + '\\n');
const state = path.join(dir, 'clusters.json');
let clusters = fs.existsSync(state) ? JSON.parse(fs.readFileSync(state, 'utf8')) : [];
const save = () => fs.writeFileSync(state, JSON.stringify(clusters));
const opt = (name, dflt) => (args.indexOf(name) >= 0 ? args[args.indexOf(name) + 1] : dflt);
if (args[0] === 'version') { console.log('kind v0.23.0 go1.22.2 linux/amd64'); process.exit(0); }
if (args[0] === 'get' && args[1] === 'clusters') {
  if (clusters.length === 0) console.error('No kind clusters found.');
  else console.log(clusters.join('\\n'));
  process.exit(0);
}
const name = opt('--name', 'kind');
if (args[0] === 'create' && args[1] === 'cluster') {
  if (clusters.includes(name)) { console.error('ERROR: failed to create cluster: node(s) already exist for a cluster with the name "' + name + '"'); process.exit(1); }
  const config = opt('--config');
  if (config !== undefined && !fs.existsSync(config)) { console.error('ERROR: failed to create cluster: error reading file: open ' + config + ': no such file or directory'); process.exit(1); }
  if (fs.existsSync(path.join(dir, 'fail-create'))) { console.error('ERROR: failed to create cluster: failed to init node with kubeadm: exit status 1'); process.exit(1); }
  console.error('Creating cluster "' + name + '" ...');
  clusters.push(name); save();
  console.error('Set kubectl context to "kind-' + name + '"');
  process.exit(0);
}
if (args[0] === 'delete' && args[1] === 'cluster') {
  console.error('Deleting cluster "' + name + '" ...');
  clusters = clusters.filter((c) => c !== name); save();
  process.exit(0);
}
console.error('ERROR: unknown command ' + JSON.stringify(args)); process.exit(1);
`;

export interface FakeKind {
  /** path of the executable */
  bin: string;
  dir: string;
  argv(): string[][];
  clusters(): string[];
  failCreate(): void;
  close(): void;
}

export function installFakeKind(): FakeKind {
  const dir = mkdtempSync(join(tmpdir(), 'orgloop-kind-'));
  const bin = join(dir, 'kind');
  writeFileSync(bin, SCRIPT);
  chmodSync(bin, 0o755);
  const read = (f: string) => (existsSync(join(dir, f)) ? readFileSync(join(dir, f), 'utf8') : '');
  return {
    bin,
    dir,
    argv: () => read('argv.jsonl').split('\n').filter(Boolean).map((l) => JSON.parse(l) as string[]),
    clusters: () => (read('clusters.json') ? (JSON.parse(read('clusters.json')) as string[]) : []),
    failCreate: () => writeFileSync(join(dir, 'fail-create'), ''),
    close: () => rmSync(dir, { recursive: true, force: true }),
  };
}
