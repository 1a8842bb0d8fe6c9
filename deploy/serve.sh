#!/usr/bin/env bash
# Installs what is missing, builds, and runs tensord in the foreground on 127.0.0.1:50051.
# Extra arguments go to the server (e.g. --contexts='dev0->cpu' --log_level=debug).
set -euo pipefail
cd "$(dirname "$0")/.."
deploy/install-deps.sh
deploy/build.sh --target tensord
exec build/default/server/tensord --listen=127.0.0.1:50051 "$@"
