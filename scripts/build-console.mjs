// Builds the web console into dist/console: the TypeScript app bundled into one ES module by
// esbuild, the page and its stylesheet copied. No network and no CDN at run time: the executor
// and `orgloop console` serve these files themselves.
import { copyFileSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new globalThis.URL('..', import.meta.url));
const out = `${root}dist/console`;
mkdirSync(out, { recursive: true });
await build({
  entryPoints: [`${root}web/src/main.ts`],
  bundle: true,
  format: 'esm',
  target: 'es2020',
  minify: true,
  sourcemap: false,
  outfile: `${out}/app.js`,
  logLevel: 'warning',
});
for (const f of ['index.html', 'app.css']) copyFileSync(`${root}web/${f}`, `${out}/${f}`);
