#!/usr/bin/env bash
# Creates (or refreshes) clients/python/.venv with the client installed in editable mode.
# Idempotent: an existing venv is reused, satisfied requirements are not reinstalled, and the
# stubs are regenerated from proto/ each time (cheap, and keeps them in step with the contract).
# Usage: clients/python/setup-venv.sh            (PYTHON=python3.11 to choose the interpreter)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="$here/.venv"
python="${PYTHON:-python3}"

if [[ ! -x "$venv/bin/python" ]]; then
  "$python" -m venv "$venv"
fi
pip=("$venv/bin/python" -m pip --disable-pip-version-check -q)
# kubernetes-validate: the Kubernetes schemas deploy/k8s is checked against in the tests
# (kubectl is not available here). scipy: optional for the client (tensord[sparse]), but the
# sparse tests compare tensord.sparse against it.
"${pip[@]}" install "grpcio>=1.60" "grpcio-tools>=1.60" "protobuf>=4.25" "numpy>=1.24" \
  "pytest>=7" "setuptools>=64" "kubernetes-validate>=1.30" "pyyaml>=6" "scipy>=1.10"
"$here/generate_protos.sh" "$venv/bin/python"
# Skip the (slow-ish) editable install when this checkout is already the installed one.
if ! "$venv/bin/python" -I - "$here" <<'PY' 2>/dev/null
import os, sys, tensord
installed_from = os.path.dirname(os.path.dirname(os.path.abspath(tensord.__file__)))
sys.exit(0 if installed_from == sys.argv[1] else 1)
PY
then
  "${pip[@]}" install --no-build-isolation -e "$here"
fi
echo "tensord client ready: $venv/bin/python"
