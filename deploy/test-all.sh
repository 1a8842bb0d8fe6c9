#!/usr/bin/env bash
# Installs what is missing, builds everything, and runs every test: C++ (ctest) then Python
# (pytest, against the freshly built server).
set -euo pipefail
cd "$(dirname "$0")/.."
deploy/install-deps.sh
deploy/build.sh
ctest --preset default -j2
TENSORD_SERVER_BIN="$PWD/build/default/server/tensord" \
  clients/python/.venv/bin/python -m pytest -q tests/python tests/conformance clients/python/tests
