#!/usr/bin/env bash
# Build the js-late-shipping plugin (app.js + probity.js) into a Probity plugin component:
#
#   examples/js-plugin/build.sh    -> target/js_plugin.wasm
#
# Works from any directory. Needs Node.js 18 or newer with npm (tested with Node 20), and
# the npm registry the first time (node_modules is kept and reused while it matches
# package-lock.json).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")"

# componentize-js 0.23.0 (StarlingMonkey/SpiderMonkey), pinned exactly in package.json,
# with every transitive version in package-lock.json. (`jco componentize` 1.35.0, which
# wraps it, failed on this machine with "failed to get path metadata … os error 44".)
WIT_DIR=../../wit
WORLD=plugin

# The engine features switched off. `http` and `fetch-event` make the component import
# wasi:http, which the host refuses (plugins get no network). `stdio`, `random` and
# `clocks` stay: the host backs them with empty, deterministic implementations, and with
# stdio an uncaught exception's message reaches the host's trap report.
DISABLE=(http fetch-event)

# `npm ci` only when node_modules is missing or older than the lock file.
stamp=node_modules/.package-lock.json
if [[ ! -f "$stamp" || package-lock.json -nt "$stamp" || package.json -nt "$stamp" ]]; then
    npm ci --no-audit --no-fund --loglevel=error
fi

mkdir -p target
out=target/js_plugin.wasm
rm -f "$out"
node node_modules/@bytecodealliance/componentize-js/src/cli.js app.js \
    --wit "$WIT_DIR" --world-name "$WORLD" --disable "${DISABLE[@]}" -o "$out"

# The CLI does not fail on every error: check that a component came out.
if [[ ! -s "$out" ]]; then
    echo "build.sh: componentize-js did not write $out" >&2
    exit 1
fi

bytes=$(wc -c <"$out")
echo "built: $PWD/$out"
echo "size:  $bytes bytes ($(( (bytes + 524288) / 1048576 )) MiB)"
echo "sha256: $(sha256sum "$out" | cut -d' ' -f1)"
