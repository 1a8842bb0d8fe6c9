// Profiles through the real server: GetProfile / ResetProfile on profiled and plain functions.
#include <gtest/gtest.h>

#include <thread>

#include "tensord/client.h"
#include "tests/integration/live_server_test.h"

namespace tensord::client {
namespace {

class ProfileTest : public LiveServerTest {
 protected:
  static void SetUpTestSuite() { StartServer({}); }

  absl::StatusOr<Function> Compile(bool profile) {
    GraphBuilder g;
    Var x = g.Vector("x", kFloat64);
    FunctionOptions options;
    options.name = "square_plus";
    options.profile = profile;
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
