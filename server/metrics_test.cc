#include "server/metrics.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace tensord::server {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(MetricsTest, RendersEventMetricsWithUnitsAndLabels) {
  Metrics metrics;
  metrics.RecordRpc("Compile", absl::StatusCode::kOk, 0.002);
  metrics.RecordRpc("Compile", absl::StatusCode::kOk, 0.003);
  metrics.RecordRpc("Run", absl::StatusCode::kInvalidArgument, 0.001);
  metrics.RecordCompileMiss(0.5);
  metrics.RecordRun(0.01);
  metrics.runs_in_flight().Increment();
  std::string text = metrics.Render();
  EXPECT_THAT(text, HasSubstr("# TYPE tensord_rpc_requests_total counter"));
  EXPECT_THAT(text, HasSubstr("tensord_rpc_requests_total{code=\"OK\",method=\"Compile\"} 2"));
  EXPECT_THAT(text,
              HasSubstr("tensord_rpc_requests_total{code=\"INVALID_ARGUMENT\",method=\"Run\"} 1"));
  EXPECT_THAT(text, HasSubstr("# TYPE tensord_rpc_duration_seconds histogram"));
  EXPECT_THAT(text, HasSubstr("tensord_rpc_duration_seconds_count{method=\"Compile\"} 2"));
  EXPECT_THAT(text, HasSubstr("tensord_compile_duration_seconds_count 1"));
  EXPECT_THAT(text, HasSubstr("tensord_compile_duration_seconds_sum 0.5"));
  EXPECT_THAT(text, HasSubstr("tensord_run_duration_seconds_count 1"));
  EXPECT_THAT(text, HasSubstr("tensord_runs_in_flight 1"));
  EXPECT_THAT(text, HasSubstr("tensord_process_resident_memory_bytes "));
}

TEST(MetricsTest, ReadsStateFromTheSnapshotSourceUntilDetached) {
  Metrics metrics;
  EXPECT_THAT(metrics.Render(), Not(HasSubstr("tensord_sessions")));
  metrics.SetSnapshotSource([] {
    MetricsSnapshot s;
    s.cache_hits = 3;
    s.cache_misses = 2;
    s.cache_evictions = 1;
    s.cache_entries = 1;
    s.cache_bytes = 4096;
    s.sessions = 4;
    s.shared_by_context["cpu"] = {2, 48};
    s.shared_by_context["dev0"] = {};
    s.memory_by_context["cpu"] = {1024, 4096};
    s.memory_by_context["dev0"] = {};
    return s;
  });
  std::string text = metrics.Render();
  EXPECT_THAT(text, HasSubstr("# TYPE tensord_compile_cache_hits_total counter"));
  EXPECT_THAT(text, HasSubstr("tensord_compile_cache_hits_total 3"));
  EXPECT_THAT(text, HasSubstr("tensord_compile_cache_misses_total 2"));
  EXPECT_THAT(text, HasSubstr("tensord_compile_cache_evictions_total 1"));
  EXPECT_THAT(text, HasSubstr("# TYPE tensord_compile_cache_entries gauge"));
  EXPECT_THAT(text, HasSubstr("# TYPE tensord_compile_cache_bytes gauge"));
  EXPECT_THAT(text, HasSubstr("tensord_compile_cache_bytes 4096"));
  EXPECT_THAT(text, HasSubstr("tensord_sessions 4"));
  EXPECT_THAT(text, HasSubstr("tensord_shared_variables{context=\"cpu\"} 2"));
  EXPECT_THAT(text, HasSubstr("tensord_shared_variable_bytes{context=\"cpu\"} 48"));
  EXPECT_THAT(text, HasSubstr("tensord_shared_variables{context=\"dev0\"} 0"));
  EXPECT_THAT(text, HasSubstr("# TYPE tensord_memory_in_use_bytes gauge"));
  EXPECT_THAT(text, HasSubstr("tensord_memory_in_use_bytes{context=\"cpu\"} 1024"));
  EXPECT_THAT(text, HasSubstr("tensord_memory_peak_bytes{context=\"cpu\"} 4096"));
  EXPECT_THAT(text, HasSubstr("tensord_memory_in_use_bytes{context=\"dev0\"} 0"));
  metrics.SetSnapshotSource(nullptr);
  EXPECT_THAT(metrics.Render(), Not(HasSubstr("tensord_sessions")));
}

TEST(MetricsTest, ListensOnAFreePortAndRefusesATakenOne) {
  Metrics metrics;
  EXPECT_EQ(metrics.port(), 0);
  ASSERT_TRUE(metrics.Listen("127.0.0.1:0").ok());
  ASSERT_GT(metrics.port(), 0);
  Metrics other;
  absl::Status s = other.Listen("127.0.0.1:" + std::to_string(metrics.port()));
  EXPECT_FALSE(s.ok());
  EXPECT_THAT(std::string(s.message()), HasSubstr("--metrics_listen"));
}

TEST(MetricsTest, ReadsResidentMemory) { EXPECT_GT(ResidentMemoryBytes(), 1 << 20); }

}  // namespace
}  // namespace tensord::server
