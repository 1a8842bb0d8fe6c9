#!/usr/bin/env bash
# The image test (issue 19): builds a Debian 12 base with debootstrap (no registry is reachable
# here), builds Dockerfile.cpu with podman, runs the image, drives it with the Python client
# (the seed's chapter-1 examples), scrapes /metrics, then stops it with SIGTERM while a long Run
# is in flight and checks that the Run finished and the container exited 0. Prints the image's
# size and the time from `podman run` to a serving health check (docs/operations.md).
#
#   deploy/docker/test-image.sh          (root; installs podman and debootstrap when missing)
#
# Not part of CI (it downloads a Debian base and builds the project inside the image, about
# 20 minutes on 2 cores). Facts it relies on: Debian's podman 4.3 builds with
# --isolation=chroot; running needs --runtime runc --init and explicit ulimits in this sandbox.
set -euo pipefail
cd "$(dirname "$0")/../.."
export DEBIAN_FRONTEND=noninteractive
for tool in podman debootstrap runc catatonit; do
  command -v "$tool" >/dev/null || apt-get install -y -qq --no-install-recommends \
    podman debootstrap runc catatonit uidmap slirp4netns fuse-overlayfs >/dev/null
done
base=localhost/debian-bookworm-slim
if ! podman image exists "$base"; then
  rootfs="$(mktemp -d)"
  debootstrap --variant=minbase bookworm "$rootfs" http://deb.debian.org/debian >/dev/null
  tar -C "$rootfs" -c . | podman import - "$base" >/dev/null
  rm -rf "$rootfs"
fi
start=$(date +%s)
podman build --isolation=chroot --format docker --network=host --build-arg BASE="$base" \
  -f deploy/docker/Dockerfile.cpu -t localhost/tensord:cpu .
echo "image built in $(( $(date +%s) - start )) s;" \
  "size $(podman image inspect --format '{{.Size}}' localhost/tensord:cpu) bytes"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
metrics=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
name="tensord-image-test-$$"
volume="tensord-image-test-state-$$"
trap 'podman rm -f "$name" >/dev/null 2>&1 || true; podman volume rm -f "$volume" >/dev/null 2>&1 || true' EXIT
t0=$(date +%s.%N)
podman run -d --name "$name" --network=host --init --runtime runc \
  --ulimit nofile=4096:4096 --ulimit nproc=4096:4096 -v "$volume":/var/lib/tensord/state \
  localhost/tensord:cpu \
  --listen=127.0.0.1:"$port" --metrics_listen=127.0.0.1:"$metrics" >/dev/null
for _ in $(seq 300); do
  podman exec "$name" tensordctl --address=127.0.0.1:"$port" --timeout_ms=500 health \
    >/dev/null 2>&1 && break
  sleep 0.1
done
echo "serving $(python3 -c "print(round($(date +%s.%N) - $t0, 2))") s after podman run"

export TENSORD_ADDRESS=127.0.0.1:$port
clients/python/.venv/bin/python -m pytest -q tests/python/test_seed_chapter1.py
python3 -c "import urllib.request; b = urllib.request.urlopen('http://127.0.0.1:$metrics/metrics').read().decode(); assert 'tensord_rpc_requests_total' in b; print('metrics scraped')"

# SIGTERM during a long Run (about 3 s on 2 cores): the Run finishes within the 5 s the server
# gives calls in flight, then the server snapshots its sessions and exits 0.
marker="$(mktemp -u)"
MARKER="$marker" clients/python/.venv/bin/python - <<'PY' &
import os, numpy as np, tensord as theano, tensord.tensor as T
w = theano.shared(np.random.default_rng(0).standard_normal((2600, 2600)))
step = theano.function([], [], updates=[(w, T.tanh(T.dot(w, w)) / 10)])
open(os.environ["MARKER"], "w").close()
step()
print("long run finished OK")
PY
runner=$!
for _ in $(seq 300); do [ -e "$marker" ] && break; sleep 0.1; done
sleep 0.5
podman stop -t 30 "$name" >/dev/null
wait "$runner"
rm -f "$marker"
code=$(podman inspect --format '{{.State.ExitCode}}' "$name")
echo "container exit code: $code"
[ "$code" = 0 ]
echo "image test passed"
