#!/usr/bin/env bash
# Configures (once) and builds with the default preset: Ninja, ccache, CUDA when nvcc exists.
set -euo pipefail
cd "$(dirname "$0")/.."
# Paths relative to the checkout in ccache's hashes: another checkout of the same sources (CI's
# fresh clone) reuses these objects.
export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$PWD}" CCACHE_NOHASHDIR="${CCACHE_NOHASHDIR:-1}"
[ -f build/default/build.ninja ] || cmake --preset default
cmake --build --preset default "$@"
