// The floor under the idle benchmark: the same conditional GitHub requests the executor's idle
// polls make (four listings per repository per interval, each with its ETag, answered 304), sent
// by a bare node:http keep-alive client with nothing else in the process - no store, no
// scheduler, no poll logic. Repositories are spread over the interval in 1-second slots, as the
// executor's scheduler does, which is the cheapest way found to send them (one wake-up a second).
// Prints one JSON line: CPU time of this process over the window and the requests it sent.
//
// usage: node bench/lib/bare-poller.mjs <base-url> <token> <owner> <repos> <interval-s> <window-s>

import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { clearInterval, clearTimeout, setInterval, setTimeout } from 'node:timers';

const [base, token, owner, reposArg, intervalArg, windowArg] = process.argv.slice(2);
const repos = Number(reposArg);
const intervalS = Number(intervalArg);
const windowS = Number(windowArg);
const agent = new http.Agent({ keepAlive: true, maxSockets: 32 });
const headers = { accept: 'application/vnd.github+json', 'x-github-api-version': '2022-11-28', 'user-agent': 'orgloop-bench', authorization: `Bearer ${token}` };
const since = new Date(Date.now() - 3_600_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
const listings = (i) => {
  const r = `${base}/repos/${owner}/repo-${i}`;
  return [
    `${r}/pulls?state=all&sort=updated&direction=desc&per_page=100`,
    `${r}/pulls/comments?sort=updated&direction=asc&since=${since}&per_page=100`,
    `${r}/issues/comments?sort=updated&direction=asc&since=${since}&per_page=100`,
    `${r}/actions/runs?status=completed&per_page=100`,
  ];
};
const etags = new Map();
let requests = 0;

function get(url) {
  return new Promise((resolve, reject) => {
    const h = { ...headers };
    const etag = etags.get(url);
    if (etag) h['if-none-match'] = etag;
    const timer = setTimeout(() => req.destroy(new Error('timeout')), 30_000);
    const req = http.request(url, { headers: h, agent }, (res) => {
      res.on('data', () => {});
      res.on('end', () => {
        clearTimeout(timer);
        requests++;
        if (res.headers.etag) etags.set(url, res.headers.etag);
        resolve(res.statusCode);
      });
    });
    req.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    req.end();
  });
}

async function poll(i) {
  for (const url of listings(i)) await get(url);
}

// first round: learn every ETag (answers 200), 32 at a time
for (let i = 0; i < repos; i += 32) await Promise.all(Array.from({ length: Math.min(32, repos - i) }, (_, k) => poll(i + k)));

// steady state: every second, poll the repositories whose slot it is
let second = 0;
const ticker = setInterval(() => {
  const slot = second++ % intervalS;
  for (let i = slot; i < repos; i += intervalS) poll(i).catch((err) => console.error(err.message));
}, 1000);

await new Promise((r) => setTimeout(r, 5000));
const req0 = requests;
const cpu0 = process.cpuUsage();
const t0 = performance.now();
await new Promise((r) => setTimeout(r, windowS * 1000));
const cpu = process.cpuUsage(cpu0);
const wallMs = performance.now() - t0;
clearInterval(ticker);
const cpuMs = (cpu.user + cpu.system) / 1000;
console.log(JSON.stringify({ cpu_ms: Math.round(cpuMs), window_s: +(wallMs / 1000).toFixed(1), cpu_percent: +((cpuMs / wallMs) * 100).toFixed(2), requests: requests - req0 }));
process.exit(0);
