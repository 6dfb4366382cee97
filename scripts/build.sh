#!/bin/sh
# Configure and build ringwatch into a build folder.
# Usage: scripts/build.sh DIR [configure options...]
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
dir=$1
shift
jobs=$(nproc 2>/dev/null || echo 2)

cd "$top"
if [ ! -x configure ] || [ configure.ac -nt configure ]; then
    autoreconf -fi >/dev/null
fi
mkdir -p "$dir"
cd "$dir"
if [ ! -f Makefile ] || [ "$(cat .rw-configure-args 2>/dev/null)" != "$*" ]; then
    "$top/configure" "$@" >configure.out 2>&1 || { cat configure.out >&2; exit 1; }
    printf '%s' "$*" > .rw-configure-args
fi
make -j"$jobs" >make.out 2>&1 || { tail -n 60 make.out >&2; exit 1; }
