#!/usr/bin/env bash
# Builds the server and the suites that attack it under AddressSanitizer + UndefinedBehavior-
# Sanitizer (the `asan` preset) and runs them: the integration suites (bad input, the wire
# boundary's hostile bytes and enum numbers, mutated requests) and the server's unit tests. A
# memory error or undefined behaviour anywhere in the server fails the run. CI runs this after
# the README's test command. Also the fuzz targets over their seed corpus.
set -euo pipefail
cd "$(dirname "$0")/.."
export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$PWD}" CCACHE_NOHASHDIR="${CCACHE_NOHASHDIR:-1}"
deploy/install-deps.sh
[ -f build/asan/build.ninja ] || cmake --preset asan
cmake --build --preset asan --target tensord tensordctl integration_tests server_unit_tests \
  graph_fuzz tensor_fuzz run_request_fuzz

# halt_on_error: a sanitizer report is a failure, not a line in a log that passes. Leak checks
# are off: gRPC's and protobuf's process-lifetime singletons would drown real reports.
export ASAN_OPTIONS="halt_on_error=1:abort_on_error=1:detect_leaks=0:strict_string_checks=1"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
build/asan/server/server_unit_tests --gtest_brief=1
build/asan/tests/integration/integration_tests --gtest_brief=1
# The fuzz targets' corpora and seeded mutations (tests/fuzz), where a sanitizer sees them.
build/asan/tests/fuzz/graph_fuzz tests/fuzz/corpus/graph --mutations=20000
build/asan/tests/fuzz/tensor_fuzz tests/fuzz/corpus/tensor --mutations=20000
build/asan/tests/fuzz/run_request_fuzz tests/fuzz/corpus/run_request --mutations=20000
echo "asan: server and integration suites passed under AddressSanitizer + UBSan"
