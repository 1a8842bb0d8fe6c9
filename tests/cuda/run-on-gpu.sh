#!/usr/bin/env bash
# The GPU checks of the CUDA provider (issue 16) as one bundle, for a machine with an NVIDIA GPU
# and CUDA 13 but none of this project's Debian packages (no Abseil, no SLEEF, no gRPC):
#
#   tests/cuda/run-on-gpu.sh bundle [DIR]   # here: build, then copy the CUDA test binaries,
#                                           # the GPU benchmarks (tests/bench/cuda_bench.cc,
#                                           # cuda_mlp_bench.cc), PyTorch's MLP step
#                                           # (mlp_step_torch.py with tests/bench/mlp_step.py)
#                                           # and the shared libraries they
#                                           # need into DIR (default build/gpu-bundle)
#   DIR/run.sh                              # there: runs the tests, then the benchmarks, which
#                                           # print their figures; exit status 0 when all pass
#
# The bundle takes every library the binaries load except the C library's own, the GPU driver
# (libcuda, the machine's), NVRTC and cuBLAS (100s of MiB: the machine needs CUDA 13's
# toolkit libraries, libnvrtc.so.13 and libcublas.so.13 with libcublasLt.so.13). run.sh names any
# library the machine lacks before running. Without a GPU the device tests skip, so running the
# bundle here checks that it is complete.
set -euo pipefail
cd "$(dirname "$0")/../.."
cmd="${1:-}"
if [ "$cmd" != bundle ]; then
  echo "usage: $0 bundle [DIR]" >&2
  exit 2
fi
out="${2:-build/gpu-bundle}"
build="${TENSORD_BUILD_DIR:-build/default}"
cmake --build "$build" --target cuda_backend_tests tensord_bench_cuda tensord_bench_mlp_step_cuda
binaries=("$build/engine/cuda_backend_tests" "$build/engine/tensord_bench_cuda"
          "$build/engine/tensord_bench_mlp_step_cuda")
rm -rf "$out"
mkdir -p "$out/bin" "$out/bench" "$out/lib"
# Libraries the GPU machine brings: the C library's own, the driver, NVRTC, cuBLAS.
system_library() {
  case "$1" in
    libc.so.*|libm.so.*|libdl.so.*|libpthread.so.*|librt.so.*|ld-linux*|linux-vdso*|libcuda.so.*|libnvrtc*|libcublas*)
      return 0 ;;
  esac
  return 1
}
for bin in "${binaries[@]}"; do
  if ldd "$bin" | grep -q 'not found'; then
    echo "$bin cannot load here:" >&2; ldd "$bin" | grep 'not found' >&2; exit 1
  fi
  case "$(basename "$bin")" in tensord_bench_*) dest=bench ;; *) dest=bin ;; esac
  strip -o "$out/$dest/$(basename "$bin")" "$bin"
  ldd "$bin" | awk '$3 ~ /^\// {print $1, $3}' | while read -r name path; do
    system_library "$name" || cp -L "$path" "$out/lib/$name"
  done
done
# Complete: with the bundle's libraries first, every library but the machine's own comes from it.
for bin in "$out"/bin/* "$out"/bench/*; do
  LD_LIBRARY_PATH="$out/lib" ldd "$bin" | awk '$3 ~ /^\// {print $1, $3}' | while read -r name path; do
    if ! system_library "$name" && [ "$(dirname "$(readlink -f "$path")")" != "$(readlink -f "$out/lib")" ]; then
      echo "the bundle lacks $name (found at $path)" >&2; exit 1
    fi
  done
done
cat > "$out/run.sh" <<'RUN'
#!/usr/bin/env bash
# Runs the bundled CUDA tests (made by tests/cuda/run-on-gpu.sh bundle) on this machine.
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
export LD_LIBRARY_PATH="$here/lib:/usr/local/cuda/lib64:/usr/local/cuda/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>/dev/null ||
  echo "no nvidia-smi: the device tests will skip"
status=0
for bin in "$here"/bin/*; do
  missing="$(ldd "$bin" | grep 'not found' || true)"
  if [ -n "$missing" ]; then
    echo "$(basename "$bin") cannot load:"; echo "$missing"; status=1; continue
  fi
  "$bin" --gtest_brief=1 || status=1
done
# The figures (docs/performance.md): each prints its markdown line, or says it found no device.
for bench in "$here"/bench/*; do
  missing="$(ldd "$bench" | grep 'not found' || true)"
  if [ -n "$missing" ]; then
    echo "$(basename "$bench") cannot load:"; echo "$missing"; status=1; continue
  fi
  "$bench" || status=1
done
# PyTorch eager's MLP step on the same GPU, beside tensord_bench_mlp_step_cuda's.
python3 "$here/mlp_step_torch.py" || status=1
exit "$status"
RUN
cp tests/cuda/mlp_step_torch.py tests/bench/mlp_step.py "$out/"
chmod +x "$out/run.sh"
du -sh "$out"
