#!/usr/bin/env bash
# The install steps the README gives, from the packed tarball a registry would serve:
# `npm install -g` puts `orgloop` on PATH; inside a project, `npx orgloop` runs the local one.
# Run by .ci/run after `npm test` (which builds dist/), or by hand after `npm run build`.
#
# Its cost was better-sqlite3's native module. A user's install downloads a prebuilt binary from
# GitHub; here only the npm registry is reachable, so each install compiled SQLite (~9 min on a
# loaded 2-core machine). So the binary `npm ci` just compiled for this checkout is offered the
# way a download would be: as a cached prebuild (npm's cache, _prebuilds/) for a download URL
# only this script names, taken only when the installed better-sqlite3 is that same version.
# better-sqlite3's own install script still runs, finds it, unpacks and loads it; a different
# version compiles as before. `orgloop plan` then proves the module loads from the package.
# One install does this, the global one. The project-local install skips install scripts: it
# checks that npx finds the project's own `orgloop`, and `--version` loads no native code (the
# CLI imports the engine lazily). Packages come from npm's cache, which `npm ci` has just
# filled; the registry is asked only for what the cache lacks.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
[ -f "$root/dist/cmd/main.js" ] || { echo "pack-test: build first (npm run build)" >&2; exit 1; }
start=$SECONDS

bsq="$root/node_modules/better-sqlite3"
if [ -f "$bsq/build/Release/better_sqlite3.node" ]; then
  # prebuild-install reads .prebuild-installrc from the package's directory upwards: this one
  # covers only the installs under $work
  url='http://orgloop-pack-test.invalid/better-sqlite3-v{version}-node-v{abi}-{platform}{libc}-{arch}.tar.gz'
  echo "download=$url" > "$work/.prebuild-installrc"
  # prebuild-install's own naming (util.js), so its cache lookup finds the file
  cached="$(cd "$bsq" && URL="$url" node -e '
    const u = require(require.resolve("prebuild-install/util", { paths: [process.cwd()] }));
    const fill = { version: require("./package.json").version, abi: process.versions.modules, platform: process.platform, libc: "", arch: process.arch };
    console.log(u.cachedPrebuild(process.env.URL.replace(/\{(\w+)\}/g, (_, k) => fill[k])));')"
  mkdir -p "$(dirname "$cached")"
  tar -czf "$cached" -C "$bsq" build/Release/better_sqlite3.node
  trap 'rm -rf "$work" "$cached"' EXIT
fi
# the pack skips the rebuild: dist/ is what `npm test` just built and tested
tarball="$work/$(npm pack "$root" --ignore-scripts --silent | tail -1)"
for f in docs/DESIGN.md dist/cmd/main.js examples/quickstart/orgloop.yaml schema/orgloop.schema.json; do
  tar -tzf "$tarball" | grep -x "package/$f" >/dev/null || { echo "pack-test: $f is not in the package" >&2; exit 1; }
done
quiet=(--prefer-offline --no-audit --no-fund --loglevel=error)

# global install into a private prefix; node-gyp may use both cores for the one native build
JOBS=max npm install -g --prefix "$work/global" "${quiet[@]}" "$tarball" >/dev/null
native="$work/global/lib/node_modules/orgloop/node_modules/better-sqlite3"
how=compiled; [ -d "$native/build/Release/obj.target" ] || how="the prebuilt binary of npm ci's build, v$(node -p "require('$native/package.json').version")"
echo "pack-test: npm install -g took $((SECONDS - start))s (better-sqlite3: $how)"
export PATH="$work/global/bin:$PATH"
[ "$(command -v orgloop)" = "$work/global/bin/orgloop" ] || { echo "pack-test: orgloop is not on PATH after npm install -g" >&2; exit 1; }
mkdir "$work/g" && cd "$work/g"
orgloop --version
orgloop init >/dev/null
# npm drops .gitignore from packages: init writes it itself, so .env is never committed
grep -qx '.env' .gitignore || { echo "pack-test: the scaffold's .gitignore does not ignore .env" >&2; exit 1; }
orgloop validate
orgloop plan >/dev/null   # opens the state store: the native SQLite module was installed

# project-local install, run with npx (the global one is taken off PATH first)
mkdir "$work/local" && cd "$work/local"
npm init -y >/dev/null
npm install --ignore-scripts "${quiet[@]}" "$tarball" >/dev/null
[ -x node_modules/.bin/orgloop ] || { echo "pack-test: npm install did not link node_modules/.bin/orgloop" >&2; exit 1; }
local_version="$(PATH="${PATH#"$work/global/bin:"}" npx --no-install orgloop --version)"
[ "$local_version" = "$(node -p "require('$root/package.json').version")" ] || { echo "pack-test: npx orgloop printed '$local_version'" >&2; exit 1; }
echo "pack-test: ok in $((SECONDS - start))s"
