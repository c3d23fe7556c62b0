#!/usr/bin/env bash
# Build the py-claims plugin (app.py) into a Probity plugin component:
#
#   examples/python-plugin/build.sh            -> target/py_claims.wasm      (no WASI imports)
#   examples/python-plugin/build.sh --wasi     -> target/py_claims-wasi.wasm (with WASI imports)
#   examples/python-plugin/build.sh --bindings -> also target/bindings/, the Python stubs of
#                                                 the WIT world for editors and type checkers
#
# Works from any directory. Needs python3 with venv and pip (tested with 3.11), and PyPI
# access the first time (the virtualenv is kept in .venv and reused).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")"

# componentize-py 0.25.1 (the newest on PyPI when this was written) embeds CPython 3.14
# and targets WASI 0.2.9 (wasmtime 48 links any 0.2.x). It names the generated world
# module `wit_world` and the export class `WitWorld`, which app.py relies on (0.13 and
# older named them after the world: `plugin` / `Plugin`). No version avoids importing
# wasi:sockets, which the host refuses, unless the component is built with
# --stub-wasi (see README.md): 0.13.5 and 0.25.1 were checked.
COMPONENTIZE_PY_VERSION=0.25.1

# The world: `probity:plugin/plugin` (plain `plugin` also works while wit/ holds a
# single package).
WIT_DIR=../../wit
WORLD=probity:plugin/plugin

wasi=0
bindings=0
for arg in "$@"; do
    case "$arg" in
        --wasi) wasi=1 ;;
        --bindings) bindings=1 ;;
        -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
        *) echo "build.sh: unknown argument: $arg" >&2; exit 2 ;;
    esac
done

venv=.venv
cpy="$venv/bin/componentize-py"
if [[ ! -x "$venv/bin/python" ]]; then
    python3 -m venv "$venv"
fi
if [[ "$("$cpy" --version 2>/dev/null || true)" != "componentize-py $COMPONENTIZE_PY_VERSION" ]]; then
    "$venv/bin/pip" install --quiet --disable-pip-version-check \
        "componentize-py==$COMPONENTIZE_PY_VERSION"
fi

mkdir -p target

if [[ $bindings == 1 ]]; then
    # Stubs only (every function raises NotImplementedError): `componentize` generates
    # the real bindings itself, so these are never part of the component.
    rm -rf target/bindings
    "$cpy" -d "$WIT_DIR" -w "$WORLD" bindings target/bindings >/dev/null
    echo "bindings: target/bindings"
fi

if [[ $wasi == 1 ]]; then
    # The component imports the WASI interfaces CPython's libc was linked against,
    # wasi:sockets/* included: Probity 0.1 refuses it at load (README.md).
    out=target/py_claims-wasi.wasm
    stub=()
else
    # --stub-wasi replaces every WASI import with a trapping stub, so the component
    # imports only probity:plugin. Consequences: print() and a module first imported
    # while handling an event trap; random's seed is fixed at build time.
    out=target/py_claims.wasm
    stub=(--stub-wasi)
fi

# `app` is app.py; componentize-py imports it, snapshots the initialised interpreter
# (module-level work such as compiling the default matcher ships pre-done) and links
# CPython, the stdlib modules in use and the bindings into one component.
"$cpy" -q -d "$WIT_DIR" -w "$WORLD" componentize app -p . "${stub[@]}" -o "$out"

bytes=$(wc -c <"$out")
echo "built: $PWD/$out"
echo "size:  $bytes bytes ($(( (bytes + 524288) / 1048576 )) MiB)"
echo "sha256: $(sha256sum "$out" | cut -d' ' -f1)"
