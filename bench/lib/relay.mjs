// Floors under the executor's throughput: the least a process can do between the load generator
// and the sink, measured in the same harness as orgloop.
//
//   memory   answers 202 and POSTs the body to the sink on a keep-alive agent; nothing stored.
//   durable  the least an at-least-once relay must do: the event is inserted before the 202 and
//            marked delivered after the sink's 2xx, both group-committed (one transaction per
//            event-loop turn) in SQLite with WAL and synchronous=FULL, as orgloop's store does.
//            No routing, no delivery rows, no retries, no logs.
//
// usage: node bench/lib/relay.mjs <sink-url> memory|durable [db-file]
// Prints "listening on http://127.0.0.1:<port>" once it accepts requests.

import { Buffer } from 'node:buffer';
import http from 'node:http';
import { setImmediate } from 'node:timers';
import Database from 'better-sqlite3';

const [sinkUrl, mode, dbFile] = process.argv.slice(2);
const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
const durable = mode === 'durable';

let db, insert, markDelivered;
if (durable) {
  db = new Database(dbFile);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec('CREATE TABLE IF NOT EXISTS relayed (id INTEGER PRIMARY KEY, body TEXT NOT NULL, delivered_at INTEGER)');
  insert = db.prepare('INSERT INTO relayed (body) VALUES (?)');
  markDelivered = db.prepare('UPDATE relayed SET delivered_at = ? WHERE id = ?');
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
      if (res.statusCode >= 200 && res.statusCode < 300) delivered(e.id);
    });
  });
  req.on('error', () => {});
  req.end(e.body);
}

const server = http.createServer({ keepAliveTimeout: 60_000 }, (req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => ingest({ body: Buffer.concat(chunks).toString('utf8'), res, id: 0 }));
});
server.listen(0, '127.0.0.1', () => console.log(`listening on http://127.0.0.1:${server.address().port}`));
process.on('SIGTERM', () => {
  server.close();
  db?.close();
  process.exit(0);
});
