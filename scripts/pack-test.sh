#!/usr/bin/env bash
# The install steps the README gives, from the packed tarball a registry would serve:
# `npm install -g` puts `orgloop` on PATH; inside a project, `npx orgloop` runs the local one.
# Run by hand (bash scripts/pack-test.sh): it packs, installs and builds from scratch, minutes on a loaded machine.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
tarball="$work/$(npm pack "$root" --silent | tail -1)"
tar -tzf "$tarball" | grep -x 'package/docs/DESIGN.md' >/dev/null || { echo "pack-test: docs/ is not in the package" >&2; exit 1; }

# global install into a private prefix
npm install -g --prefix "$work/global" --no-audit --no-fund "$tarball" >/dev/null
export PATH="$work/global/bin:$PATH"
[ "$(command -v orgloop)" = "$work/global/bin/orgloop" ] || { echo "pack-test: orgloop is not on PATH after npm install -g" >&2; exit 1; }
mkdir "$work/g" && cd "$work/g"
orgloop --version
orgloop init >/dev/null
orgloop validate

# project-local install, run with npx
mkdir "$work/local" && cd "$work/local"
npm init -y >/dev/null
npm install --no-audit --no-fund "$tarball" >/dev/null
PATH="${PATH#"$work/global/bin:"}" npx --no-install orgloop --version
echo "pack-test: ok"
