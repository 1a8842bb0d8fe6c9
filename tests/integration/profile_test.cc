// Profiles through the real server: GetProfile / ResetProfile on profiled and plain functions.
#include <gtest/gtest.h>

#include <algorithm>
#include <thread>

#include "tensord/client.h"
#include "tests/integration/live_server_test.h"

namespace tensord::client {
namespace {

class ProfileTest : public LiveServerTest {
 protected:
  static void SetUpTestSuite() { StartServer({}); }

  absl::StatusOr<Function> Compile(bool profile, bool profile_memory = false) {
    GraphBuilder g;
    Var x = g.Vector("x", kFloat64);
    FunctionOptions options;
    options.name = "square_plus";
    options.profile = profile;
    options.profile_memory = profile_memory;
    auto spec = FunctionSpecBuilder(g).Inputs({x}).Outputs({x * x + x}).Options(options).Build();
    if (!spec.ok()) return spec.status();
    return session_->Compile(*spec);
  }

  v1::GetProfileResponse Get(const Function& f) {
    v1::GetProfileRequest req;
    req.set_session_id(session_->id());
    req.set_function_id(f.id());
    v1::GetProfileResponse resp;
    grpc::ClientContext ctx;
    grpc::Status s = client_->stub().GetProfile(&ctx, req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return resp;
  }
};

TEST_F(ProfileTest, CountsRunsFromManyThreadsAndResets) {
  auto f = Compile(true);
  ASSERT_TRUE(f.ok()) << f.status();
  constexpr int kThreads = 4, kRuns = 10;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int r = 0; r < kRuns; ++r) {
        auto x = HostTensor::FromVector<double>({1, 2, 3}, {3});
        ASSERT_TRUE(f->Run({*x}).ok());
      }
    });
  }
  for (auto& t : threads) t.join();
  v1::GetProfileResponse p = Get(*f);
  EXPECT_EQ(p.calls(), kThreads * kRuns);
  EXPECT_EQ(p.name(), "square_plus");
  EXPECT_GT(p.time_in_calls_ns(), p.time_in_thunks_ns());
  ASSERT_EQ(p.applies_size(), p.node_count());
  for (const auto& a : p.applies()) EXPECT_EQ(a.calls(), kThreads * kRuns);
  EXPECT_NE(p.summary().find("Time in 40 calls to Function.__call__"), std::string::npos);
  EXPECT_NE(p.chrome_trace().find("\"traceEvents\""), std::string::npos);
  auto text = f->Profile();
  ASSERT_TRUE(text.ok()) << text.status();
  EXPECT_NE(text->find("Message: square_plus"), std::string::npos);

  ASSERT_TRUE(f->ResetProfile().ok());
  EXPECT_EQ(Get(*f).calls(), 0);
  auto x = HostTensor::FromVector<double>({1}, {1});
  ASSERT_TRUE(f->Run({*x}).ok());
  EXPECT_EQ(Get(*f).calls(), 1);
}

// ((x * x) * x) + x in FAST_COMPILE (no fusion): three nodes of 8000 bytes. By default the
// first product is freed once the second has read it; keep_intermediates (allow_gc=False)
// keeps it until the run ends.
TEST_F(ProfileTest, KeepIntermediatesIsThePeakWithoutGc) {
  for (bool keep : {false, true}) {
    GraphBuilder g;
    Var x = g.Vector("x", kFloat64);
    FunctionOptions options;
    options.mode = "FAST_COMPILE";
    options.profile = options.profile_memory = true;
    options.keep_intermediates = keep;
    auto spec =
        FunctionSpecBuilder(g).Inputs({x}).Outputs({x * x * x + x}).Options(options).Build();
    ASSERT_TRUE(spec.ok()) << spec.status();
    auto f = session_->Compile(*spec);
    ASSERT_TRUE(f.ok()) << f.status();
    auto input = HostTensor::FromVector<double>(std::vector<double>(1000, 0.5), {1000});
    auto out = f->Run({*input});
    ASSERT_TRUE(out.ok()) << out.status();
    v1::GetProfileResponse p = Get(*f);
    ASSERT_EQ(p.memory_size(), 1);
    EXPECT_EQ(p.memory(0).peak_bytes_with_gc(), 3 * 8000);
    EXPECT_EQ(p.memory(0).peak_bytes_without_gc(), 4 * 8000);
    EXPECT_EQ(p.memory(0).peak_bytes(), keep ? 4 * 8000 : 3 * 8000) << keep;
  }
}

TEST_F(ProfileTest, ProfileMemoryReportsPeakAndLargestOutputs) {
  auto f = Compile(true, /*profile_memory=*/true);
  ASSERT_TRUE(f.ok()) << f.status();
  std::vector<double> values(1000, 0.5);
  auto x = HostTensor::FromVector<double>(values, {1000});
  ASSERT_TRUE(f->Run({*x}).ok());
  v1::GetProfileResponse p = Get(*f);
  EXPECT_TRUE(p.profile_memory());
  ASSERT_EQ(p.memory_size(), 1);
  EXPECT_EQ(p.memory(0).context(), "cpu");
  // The input and the 8000-byte result at least; intermediates only add.
  EXPECT_GE(p.memory(0).peak_bytes(), 16000);
  EXPECT_GE(p.memory(0).peak_bytes_without_inplace(), p.memory(0).peak_bytes());
  EXPECT_EQ(p.memory(0).peak_bytes_with_gc(), p.memory(0).peak_bytes());
  EXPECT_GE(p.memory(0).peak_bytes_without_gc(), p.memory(0).peak_bytes());
  int64_t largest = 0;
  for (const auto& a : p.applies()) largest = std::max(largest, a.output_bytes());
  EXPECT_EQ(largest, 8000);
  EXPECT_NE(p.summary().find("Memory Profile\n"), std::string::npos) << p.summary();
  EXPECT_NE(p.summary().find("[(1000,)]"), std::string::npos) << p.summary();
  EXPECT_NE(p.summary().find("Theano validate time"), std::string::npos);
  EXPECT_GT(p.linker_ns(), 0);

  // Without profile_memory: no memory section, no per-apply sizes.
  auto plain = Compile(true);
  ASSERT_TRUE(plain.ok()) << plain.status();
  ASSERT_TRUE(plain->Run({*x}).ok());
  v1::GetProfileResponse q = Get(*plain);
  EXPECT_FALSE(q.profile_memory());
  EXPECT_EQ(q.memory_size(), 0);
  EXPECT_EQ(q.summary().find("Memory Profile"), std::string::npos);
  for (const auto& a : q.applies()) EXPECT_EQ(a.output_bytes(), 0);
}

TEST_F(ProfileTest, UnprofiledFunctionIsAFailedPrecondition) {
  auto f = Compile(false);
  ASSERT_TRUE(f.ok()) << f.status();
  auto text = f->Profile();
  ASSERT_EQ(text.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(text.status().message().find("square_plus was compiled without profile=True"),
            std::string::npos)
      << text.status();
  EXPECT_EQ(f->ResetProfile().code(), absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace tensord::client
