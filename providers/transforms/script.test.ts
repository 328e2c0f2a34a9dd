import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeCtx, makeEvent } from '../lib/test-helpers/context.js';
import { scriptTransform } from './script.js';

const dir = mkdtempSync(join(tmpdir(), 'orgloop-script-'));
const store = { seen: async () => false };
// A real script: adds a field, keeps the rest (uses node so it runs wherever orgloop runs).
writeFileSync(
  join(dir, 'tag.mjs'),
  `let s='';process.stdin.on('data',d=>s+=d).on('end',()=>{const e=JSON.parse(s);e.payload.tagged=process.env.ORGLOOP_TRANSFORM;e.hops=99;e.id='forged';process.stdout.write(JSON.stringify(e))})`,
);
const node = process.execPath;

describe('script transform', () => {
  it('stdout becomes the event; identity fields stay the original', async () => {
    const ev = makeEvent();
    const r = await scriptTransform.transform(makeCtx({ command: [node, 'tag.mjs'] }, { projectDir: dir, name: 'tagger' }), ev, store);
    expect(r).toEqual({ action: 'pass', event: { ...ev, payload: { ...ev.payload, tagged: 'tagger' } } });
  });

  it('partial output keeps omitted top-level fields', async () => {
    const r = await scriptTransform.transform(makeCtx({ command: `echo '{"payload":{"short":true}}'` }), makeEvent(), store);
    expect(r).toMatchObject({ action: 'pass', event: { type: 'resource.changed', source: 'github', payload: { short: true } } });
  });

  it('empty output drops the event', async () => {
    expect(await scriptTransform.transform(makeCtx({ command: 'cat > /dev/null' }, { name: 'quiet' }), makeEvent(), store)).toEqual({
      action: 'drop',
      reason: 'script quiet printed nothing',
    });
  });

  it('on_error decides what a failure does: pass (default), drop, halt', async () => {
    const ev = makeEvent();
    const fail = 'echo "no token" >&2; exit 2';
    const passed = makeCtx({ command: fail });
    expect(await scriptTransform.transform(passed, ev, store)).toEqual({ action: 'pass', event: ev });
    expect(passed.logged[0]).toEqual(['warn', 'script transform test failed; passing the event unchanged', { error: 'exited with code 2: no token' }]);
    expect(await scriptTransform.transform(makeCtx({ command: fail, on_error: 'drop' }), ev, store)).toEqual({
      action: 'drop',
      reason: 'script error: exited with code 2: no token',
    });
    expect(await scriptTransform.transform(makeCtx({ command: fail, on_error: 'halt' }), ev, store)).toEqual({
      action: 'error',
      error: 'script error: exited with code 2: no token',
    });
  });

  it('bad output and timeouts are errors', async () => {
    const ev = makeEvent();
    expect(await scriptTransform.transform(makeCtx({ command: 'echo not-json', on_error: 'halt' }), ev, store)).toEqual({
      action: 'error',
      error: expect.stringContaining('script error: output is not JSON'),
    });
    expect(await scriptTransform.transform(makeCtx({ command: 'echo "[1]"', on_error: 'halt' }), ev, store)).toEqual({
      action: 'error',
      error: 'script error: output must be a JSON object (an event)',
    });
    expect(await scriptTransform.transform(makeCtx({ command: 'sleep 10', timeout: '200ms', on_error: 'halt' }), ev, store)).toEqual({
      action: 'error',
      error: 'script error: timed out after 200ms',
    });
  });

  it('validate', () => {
    expect(scriptTransform.validate!({ command: 'x', timeout: '5s' })).toEqual([]);
    expect(scriptTransform.validate!({ command: 'x', timeout: '5' })).toEqual([{ path: 'timeout', message: expect.stringContaining('invalid duration "5"') }]);
  });
});
