#!/usr/bin/env bash
# A libFuzzer campaign: builds the fuzz targets with clang, libFuzzer, ASan and UBSan (the `fuzz`
# preset; the whole server library is instrumented for coverage) and fuzzes one target for a
# while, starting from the seed corpus. Findings (crashes, sanitizer reports, INTERNAL statuses,
# timeouts) are written to build/fuzz/findings/<target>/; the grown corpus stays in
# build/fuzz/corpus/<target>/ for the next campaign. The last lines are libFuzzer's final stats
# (executions, coverage, features, corpus); docs/operations.md ("Hostile input") records the
# campaigns run so far.
#
#   tests/fuzz/campaign.sh graph_fuzz 3600     # target, seconds
set -euo pipefail
cd "$(dirname "$0")/../.."
target="${1:?usage: campaign.sh graph_fuzz|tensor_fuzz|run_request_fuzz SECONDS}"
seconds="${2:-600}"
case "$target" in graph_fuzz) seeds=tests/fuzz/corpus/graph ;; tensor_fuzz) seeds=tests/fuzz/corpus/tensor ;;
  run_request_fuzz) seeds=tests/fuzz/corpus/run_request ;;
  *) echo "unknown target $target" >&2; exit 2 ;; esac
deploy/install-deps.sh >/dev/null
command -v clang++ >/dev/null || { SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo;
  $SUDO apt-get install -y -qq --no-install-recommends clang libclang-rt-dev; }
[ -f build/fuzz/build.ninja ] || cmake --preset fuzz >/dev/null
cmake --build --preset fuzz --target "$target"
corpus="build/fuzz/corpus/$target"
findings="build/fuzz/findings/$target"
mkdir -p "$corpus" "$findings"
cp -n "$seeds"/* "$corpus"/
# Leak checks off: gRPC's and protobuf's process-lifetime singletons are not findings.
export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
exec "build/fuzz/tests/fuzz/$target" "$corpus" -max_total_time="$seconds" -timeout=10 \
  -rss_limit_mb=4096 -max_len=65536 -print_final_stats=1 -artifact_prefix="$findings/"
