#!/usr/bin/env bash
# Installs what tensord needs to build, test and run on Debian 12. Idempotent: it installs only
# missing packages (apt-get update runs only then) and leaves a ready Python virtualenv.
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(
  build-essential cmake ninja-build ccache pkg-config git
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libabsl-dev libspdlog-dev prometheus-cpp-dev libgtest-dev libgmock-dev
  libdnnl-dev ocl-icd-opencl-dev opencl-c-headers libopenblas-dev
  libsleef-dev  # vectorized transcendental functions (engine/ops/scalar/vector_math.h)
  libeigen3-dev  # float64 matrix products on AVX-512 (engine/backends/cpu/gemm_eigen_avx512.cc)
  python3 python3-venv python3-dev
  graphviz
  openssl  # the TLS tests make their certificates with it
  libssl-dev  # libcrypto's SHA-256 (server/digest.h)
  haproxy  # session-affine routing in front of replicas (deploy/haproxy; the scale-out tests)
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# Container builds need no Python client: TENSORD_SKIP_VENV=1 (deploy/docker).
[ "${TENSORD_SKIP_VENV:-0}" = 1 ] || clients/python/setup-venv.sh
