#!/usr/bin/env bash
# The install steps the README gives, from the packed tarball a registry would serve:
# `npm install -g` puts `orgloop` on PATH; inside a project, `npx orgloop` runs the local one.
# Run by hand after a build (bash scripts/pack-test.sh): the pack skips the rebuild
# (--ignore-scripts) and installs prefer npm's cache (--prefer-offline), but each fresh install
# still installs better-sqlite3's native module: about 10 minutes on a loaded 2-core machine with
# a warm cache (measured 2026-12-07), so it is not in .ci/run.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
[ -f "$root/dist/cmd/main.js" ] || { echo "pack-test: build first (npm run build)" >&2; exit 1; }
tarball="$work/$(npm pack "$root" --ignore-scripts --silent | tail -1)"
for f in docs/DESIGN.md dist/cmd/main.js examples/quickstart/orgloop.yaml schema/orgloop.schema.json; do
  tar -tzf "$tarball" | grep -x "package/$f" >/dev/null || { echo "pack-test: $f is not in the package" >&2; exit 1; }
done

# global install into a private prefix
npm install -g --prefix "$work/global" --prefer-offline --no-audit --no-fund "$tarball" >/dev/null
export PATH="$work/global/bin:$PATH"
[ "$(command -v orgloop)" = "$work/global/bin/orgloop" ] || { echo "pack-test: orgloop is not on PATH after npm install -g" >&2; exit 1; }
mkdir "$work/g" && cd "$work/g"
orgloop --version
orgloop init >/dev/null
# npm drops .gitignore from packages: init writes it itself, so .env is never committed
grep -qx '.env' .gitignore || { echo "pack-test: the scaffold's .gitignore does not ignore .env" >&2; exit 1; }
orgloop validate
orgloop plan >/dev/null   # opens the state store: the native SQLite module was installed

# project-local install, run with npx
mkdir "$work/local" && cd "$work/local"
npm init -y >/dev/null
npm install --prefer-offline --no-audit --no-fund "$tarball" >/dev/null
PATH="${PATH#"$work/global/bin:"}" npx --no-install orgloop --version
echo "pack-test: ok"
