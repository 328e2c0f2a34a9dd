// The yardstick for orgloop on Postgres: graphile-worker (a mature Postgres job queue) run the
// way orgloop runs, in the same harness. An HTTP ingress answers 202 once the job is committed
// (at-least-once, as orgloop's 202 is), and a worker pool of the same concurrency POSTs each
// job's body to the sink.
//
//   defaults  one addJob per request; the runner on graphile-worker's defaults
//   batching  one addJob per request; the runner with the batching its docs recommend starting
//             from (worker.graphile.org/docs/performance): localQueue.size = concurrency + 1,
//             completeJobBatchDelay and failJobBatchDelay 250 ms
//   grouped   batching, and the requests of one event-loop turn added in one addJobs call (as
//             orgloop groups its ingests)
//
// usage: node bench/lib/graphile-relay.mjs <sink-url> defaults|batching|grouped <postgres-url> <schema> [concurrency]
// Prints "listening on http://127.0.0.1:<port>" once it accepts requests.

import { Buffer } from 'node:buffer';
import http from 'node:http';
import { setImmediate } from 'node:timers';
import { Logger, makeWorkerUtils, run } from 'graphile-worker';

const [sinkUrl, mode, connectionString, schema, c] = process.argv.slice(2);
if (!['defaults', 'batching', 'grouped'].includes(mode)) throw new Error(`unknown graphile-worker mode ${mode}`);
const concurrency = Number(c ?? 64);
const batching = mode !== 'defaults';
const grouped = mode === 'grouped';
const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
const silent = new Logger(() => () => {});

function post(body) {
  return new Promise((resolve, reject) => {
    const req = http.request(`${sinkUrl}/graphile`, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode >= 200 && res.statusCode < 300 ? resolve() : reject(new Error(`sink answered ${res.statusCode}`))));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const utils = await makeWorkerUtils({ connectionString, schema, logger: silent });
await utils.migrate();
const runner = await run({
  connectionString,
  schema,
  concurrency,
  noHandleSignals: true,
  logger: silent,
  taskList: { deliver: async (payload) => post(JSON.stringify({ event: { payload } })) },
  ...(batching ? { preset: { worker: { localQueue: { size: concurrency + 1 }, completeJobBatchDelay: 250, failJobBatchDelay: 250 } } } : {}),
});

/** grouped: the jobs of one event-loop turn go in one addJobs call */
let turn = [];
function addBatched(payload) {
  return new Promise((resolve, reject) => {
    if (turn.length === 0) {
      setImmediate(() => {
        const batch = turn;
        turn = [];
        utils.addJobs(batch.map((b) => ({ identifier: 'deliver', payload: b.payload }))).then(
          () => batch.forEach((b) => b.resolve()),
          (e) => batch.forEach((b) => b.reject(e)),
        );
      });
    }
    turn.push({ payload, resolve, reject });
  });
}

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (d) => chunks.push(d));
  req.on('end', () => {
    let payload;
    try {
      payload = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      res.writeHead(400).end();
      return;
    }
    (grouped ? addBatched(payload) : utils.addJob('deliver', payload)).then(
      () => res.writeHead(202, { 'content-type': 'application/json' }).end('{}'),
      () => res.writeHead(503).end(),
    );
  });
});
server.listen(0, '127.0.0.1', () => process.stdout.write(`listening on http://127.0.0.1:${server.address().port}\n`));

async function shutdown() {
  server.close();
  await runner.stop().catch(() => {});
  await utils.release().catch(() => {});
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown());
process.on('SIGINT', () => void shutdown());
