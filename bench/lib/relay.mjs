// Floors under the executor's throughput: the least a process can do between the load generator
// and the sink, measured in the same harness as orgloop.
//
//   memory   answers 202 and POSTs the body to the sink on a keep-alive agent; nothing stored.
//   durable  the least an at-least-once relay must do: the event is inserted before the 202 and
//            marked delivered after the sink's 2xx, both group-committed (one transaction per
//            event-loop turn) in SQLite with WAL and synchronous=FULL, as orgloop's store does.
//            No routing, no delivery rows, no retries, no logs.
//   records  what orgloop records per event, through orgloop's own store (dist/state/sqlite) and
//            nothing of its engine: the event and its delivery leased at ingest before the 202,
//            the delivery completed after the sink's 2xx, and the three info log rows (emit,
//            match, success) appended every 200 ms as the executor's log bus does.
//
// usage: node bench/lib/relay.mjs <sink-url> memory|durable|records [db-file]
// Prints "listening on http://127.0.0.1:<port>" once it accepts requests.

import { Buffer } from 'node:buffer';
import http from 'node:http';
import { setImmediate, setInterval } from 'node:timers';
import Database from 'better-sqlite3';

const [sinkUrl, mode, dbFile] = process.argv.slice(2);
const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
const durable = mode === 'durable';
const records = mode === 'records';
if (!['memory', 'durable', 'records'].includes(mode)) throw new Error(`unknown relay mode ${mode}`);

let db, insert, markDelivered;
if (durable) {
  db = new Database(dbFile);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec('CREATE TABLE IF NOT EXISTS relayed (id INTEGER PRIMARY KEY, body TEXT NOT NULL, delivered_at INTEGER)');
  insert = db.prepare('INSERT INTO relayed (body) VALUES (?)');
  markDelivered = db.prepare('UPDATE relayed SET delivered_at = ? WHERE id = ?');
}

// orgloop's store and ids, built by `npm run build` (npm run bench builds first)
let store, newId, logBuffer = [];
const OWNER = 'exe_relay';
if (records) {
  const { SqliteStore } = await import('../../dist/state/sqlite/store.js');
  ({ newId } = await import('../../dist/engine/run/ids.js'));
  store = new SqliteStore(dbFile);
  setInterval(() => {
    if (logBuffer.length === 0) return;
    const batch = logBuffer;
    logBuffer = [];
    store.appendLog(batch).catch(() => {});
  }, 200).unref();
}

function logRow(phase, e, message, extra = {}) {
  logBuffer.push({ time: new Date().toISOString(), phase, level: 'info', source: 'hook', route: null, actor: null, event_id: e.eventId, delivery_id: null, trace_id: e.eventId, message, data: null, ...extra });
}

/** orgloop's records for one event: event row and delivery leased at ingest, then completed. */
async function recordIngest(e) {
  const time = new Date().toISOString();
  e.eventId = newId('evt');
  e.deliveryId = newId('dlv');
  const payload = JSON.stringify({ id: e.eventId, type: 'resource.changed', source: 'hook', time, provenance: { platform: 'webhook' }, payload: JSON.parse(e.body), trace_id: e.eventId, parent_id: null, hops: 0 });
  const event = { id: e.eventId, source: 'hook', type: 'resource.changed', dedupe_key: null, payload, trace_id: e.eventId, parent_id: null, hops: 0, received_at: time };
  await store.ingest([{ event, deliveries: [{ id: e.deliveryId, route: 'to-sink', actor: 'sink', state_serial: 1 }], leaseTo: { owner: OWNER, leaseMs: 30_000 } }]);
  logRow('source.emit', e, 'resource.changed from hook, 1 route matched');
  logRow('route.match', e, 'route to-sink -> actor sink', { route: 'to-sink', actor: 'sink', delivery_id: e.deliveryId });
}

async function recordDelivered(e) {
  await store.complete(e.deliveryId, OWNER);
  logRow('deliver.success', e, 'delivered to sink on attempt 1', { route: 'to-sink', actor: 'sink', delivery_id: e.deliveryId, data: '{"attempt":1}' });
}

/** Runs `commit(batch)` once per event-loop turn for everything queued in that turn. */
function groupCommit(commit) {
  let queue = [];
  return (item) => {
    if (queue.length === 0) {
      setImmediate(() => {
        const batch = queue;
        queue = [];
        commit(batch);
      });
    }
    queue.push(item);
  };
}

const ingest = groupCommit((batch) => {
  if (durable) {
    db.transaction(() => {
      for (const e of batch) e.id = insert.run(e.body).lastInsertRowid;
    })();
  }
  for (const e of batch) {
    e.res.writeHead(202, { 'content-length': '0' });
    e.res.end();
    forward(e);
  }
});

const delivered = groupCommit((batch) => {
  if (!durable) return;
  const now = Date.now();
  db.transaction(() => {
    for (const id of batch) markDelivered.run(now, id);
  })();
});

function forward(e) {
  const req = http.request(`${sinkUrl}/relay`, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(e.body)) } }, (res) => {
    res.resume();
    res.on('end', () => {
      if (res.statusCode < 200 || res.statusCode >= 300) return;
      if (records) void recordDelivered(e);
      else delivered(e.id);
    });
  });
  req.on('error', () => {});
  req.end(e.body);
}

const server = http.createServer({ keepAliveTimeout: 60_000 }, (req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const e = { body: Buffer.concat(chunks).toString('utf8'), res, id: 0 };
    if (!records) return ingest(e);
    // the store group-commits the writes of one event-loop turn itself
    recordIngest(e).then(() => {
      res.writeHead(202, { 'content-length': '0' });
      res.end();
      forward(e);
    }, (err) => {
      res.writeHead(503, { 'content-length': '0' });
      res.end();
      console.error(err);
    });
  });
});
server.listen(0, '127.0.0.1', () => console.log(`listening on http://127.0.0.1:${server.address().port}`));
process.on('SIGTERM', () => {
  server.close();
  db?.close();
  void store?.close();
  process.exit(0);
});
