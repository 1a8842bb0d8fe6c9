#!/usr/bin/env bash
# Configures (once) and builds with the default preset: Ninja, ccache, CUDA when nvcc exists.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f build/default/build.ninja ] || cmake --preset default
cmake --build --preset default "$@"
