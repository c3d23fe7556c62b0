#!/usr/bin/env bash
# Build the js-late-shipping plugin (app.js + probity.js) into a Probity plugin component
# with the QuickJS-NG engine:
#
#   build.sh    -> target/js_plugin_qjs.wasm
#
# Works from any directory. Needs Node.js 18 or newer with npm (tested with Node 20.20),
# and the npm registry the first time (node_modules is kept and reused while it matches
# package-lock.json).
#
# componentize-qjs 0.4.5, pinned exactly in package.json, with every transitive version in
# package-lock.json. Its npm package is a small wrapper around a prebuilt native (NAPI)
# binding, @andreiltd/componentize-qjs-binding-<platform> 0.4.5, an optional dependency
# chosen by platform (linux-x64-gnu here). No Rust toolchain is needed. (jco 1.35.0's
# `jco componentize --backend qjs` calls the same package, without `--module-root` or
# `--opt-size`; it is not used.)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")"

# The WIT package (probity:plugin@0.2.0). Override with WIT_DIR=… when this directory is
# not two levels below the repository's root.
WIT_DIR=${WIT_DIR:-../../wit}
WORLD=plugin

# Flags:
#   --sync   the non-async QuickJS runtime: plain synchronous exports, no use of the
#            component-model async ABI (the default async-capable runtime also loads and
#            passes here, at a few % more size; the world has no async functions).
#   --module-root .   the directory exposed read-only while Wizer evaluates the module,
#            so that `./probity.js` resolves (the default when app.js is under the
#            current directory, given explicitly to not depend on it).
# Not used: --stub-wasi (every WASI import becomes a trap; see RESULTS.md), --minify,
# --opt-size.
FLAGS=(--sync --module-root .)

# `npm ci` only when node_modules is missing or older than the lock file.
stamp=node_modules/.package-lock.json
if [[ ! -f "$stamp" || package-lock.json -nt "$stamp" || package.json -nt "$stamp" ]]; then
    npm ci --no-audit --no-fund --loglevel=error
fi

mkdir -p target
out=target/js_plugin_qjs.wasm
rm -f "$out"
node node_modules/componentize-qjs/cli.mjs --wit "$WIT_DIR" --world "$WORLD" --js app.js \
    "${FLAGS[@]}" -o "$out"

if [[ ! -s "$out" ]]; then
    echo "build.sh: componentize-qjs did not write $out" >&2
    exit 1
fi

bytes=$(wc -c <"$out")
echo "built: $PWD/$out"
echo "size:  $bytes bytes ($(( (bytes + 524288) / 1048576 )) MiB)"
echo "sha256: $(sha256sum "$out" | cut -d' ' -f1)"
