#include "server/profile.h"

#include <gtest/gtest.h>

#include <thread>

#include "engine/compile/compiler.h"
#include "engine/compile/modes.h"
#include "engine/ops/node_builder.h"
#include "engine/ops/op_def.h"

namespace tensord::server {
namespace {

using runtime::Tensor;

// exp(x) + x over a float64 vector, compiled as the server compiles.
std::shared_ptr<compile::Executable> Build() {
  auto g = std::make_unique<ir::Graph>();
  auto* x = g->AddInput(ir::Type::Of(DType::kFloat64, 1), "x");
  g->inputs() = {x};
  ops::NodeBuilder b(*g);
  g->outputs() = {b.Add(b.Apply("exp", {x}), x), b.Neg(x)};
  EXPECT_TRUE(b.status().ok()) << b.status();
  auto prepared = compile::PrepareFunction(std::move(g), {}, {}, compile::CompileOptions{});
  EXPECT_TRUE(prepared.ok()) << prepared.status();
  auto exe = compile::BuildExecutable(*std::move(prepared));
  EXPECT_TRUE(exe.ok()) << exe.status();
  return *exe;
}

compile::RunTrace Trace(size_t n, int64_t each_ns) {
  compile::RunTrace t;
  for (size_t i = 0; i < n; ++i) {
    t.start_ns.push_back(static_cast<int64_t>(i) * each_ns);
    t.duration_ns.push_back(each_ns);
  }
  return t;
}

size_t Count(const std::string& s, const std::string& what) {
  size_t n = 0;
  for (size_t p = s.find(what); p != std::string::npos; p = s.find(what, p + 1)) ++n;
  return n;
}

TEST(FunctionProfile, AccumulatesRunsPerInstruction) {
  auto exe = Build();
  size_t n = exe->instructions().size();
  ASSERT_GE(n, 2u);
  FunctionProfile profile(n);
  profile.Record(Trace(n, 1000), 50000);
  profile.Record(Trace(n, 3000), 70000);
  v1::GetProfileResponse p;
  profile.Fill("f", *exe, 0, false, &p);
  EXPECT_EQ(p.name(), "f");
  EXPECT_EQ(p.calls(), 2);
  EXPECT_EQ(p.time_in_calls_ns(), 120000);
  EXPECT_EQ(p.time_in_thunks_ns(), static_cast<int64_t>(n) * 4000);
  EXPECT_EQ(p.node_count(), static_cast<int>(n));
  EXPECT_EQ(p.compile_ns(), exe->compile_ns());
  ASSERT_EQ(p.applies_size(), static_cast<int>(n));
  for (int i = 0; i < p.applies_size(); ++i) {
    EXPECT_EQ(p.applies(i).id(), i);
    EXPECT_EQ(p.applies(i).calls(), 2);
    EXPECT_EQ(p.applies(i).time_ns(), 4000);
    EXPECT_EQ(p.applies(i).label(), exe->instructions()[i].theano_label);
    EXPECT_FALSE(p.applies(i).class_name().empty());
  }
  const std::string& s = p.summary();
  EXPECT_NE(s.find("Function profiling\n==================\n  Message: f\n"), std::string::npos);
  EXPECT_NE(s.find("Time in 2 calls to Function.__call__: 1.200000e-04s"), std::string::npos) << s;
  EXPECT_NE(s.find("Time in thunks: "), std::string::npos);
  EXPECT_NE(s.find("<Class name>"), std::string::npos);
  EXPECT_NE(s.find("<Op name>"), std::string::npos);
  EXPECT_NE(s.find("<#call> <id> <Apply name>"), std::string::npos);
  EXPECT_NE(s.find(p.applies(0).label()), std::string::npos);
  // The Chrome trace is the last run: one complete ("X") event per instruction, in microseconds.
  EXPECT_EQ(Count(p.chrome_trace(), "\"ph\":\"X\""), n);
  EXPECT_NE(p.chrome_trace().find("\"dur\":3.000"), std::string::npos) << p.chrome_trace();
  EXPECT_EQ(p.chrome_trace().find("\"dur\":1.000"), std::string::npos);
}

// A node timed on its device (CUDA events) is drawn on the device's row of the Chrome trace.
TEST(FunctionProfile, DeviceTimedNodesGetTheDevicesRow) {
  auto exe = Build();
  size_t n = exe->instructions().size();
  FunctionProfile profile(n);
  compile::RunTrace trace = Trace(n, 1000);
  trace.device_timed.assign(n, false);
  trace.device_timed[0] = true;
  profile.Record(trace, 5000);
  v1::GetProfileResponse p;
  profile.Fill("f", *exe, 0, false, &p);
  EXPECT_EQ(Count(p.chrome_trace(), "\"tid\":2,\"args\":{\"id\":0,\"clock\":\"device\"}"), 1u)
      << p.chrome_trace();
  EXPECT_EQ(Count(p.chrome_trace(), "\"tid\":1"), n - 1);
}

TEST(FunctionProfile, ClientTimeLeadsTheSummary) {
  auto exe = Build();
  FunctionProfile profile(exe->instructions().size());
  profile.Record(Trace(exe->instructions().size(), 100), 1000);
  v1::GetProfileResponse p;
  profile.Fill("", *exe, 4000, false, &p);
  EXPECT_NE(p.summary().find("Time in 1 calls to Function.__call__: 4.000000e-06s"),
            std::string::npos);
  EXPECT_NE(p.summary().find("Time in Function.fn.__call__: 1.000000e-06s (25.000%)"),
            std::string::npos)
      << p.summary();
}

TEST(FunctionProfile, ResetZeroes) {
  auto exe = Build();
  size_t n = exe->instructions().size();
  FunctionProfile profile(n);
  profile.Record(Trace(n, 10), 100);
  profile.Reset();
  v1::GetProfileResponse p;
  profile.Fill("f", *exe, 0, false, &p);
  EXPECT_EQ(p.calls(), 0);
  EXPECT_EQ(p.time_in_thunks_ns(), 0);
  for (const auto& a : p.applies()) EXPECT_EQ(a.calls(), 0);
  EXPECT_TRUE(p.chrome_trace().empty());
  EXPECT_NE(p.summary().find("No execution time accumulated"), std::string::npos);
}

TEST(FunctionProfile, ConcurrentRealRunsAllCount) {
  auto exe = Build();
  size_t n = exe->instructions().size();
  FunctionProfile profile(n);
  constexpr int kThreads = 8, kRuns = 50;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int r = 0; r < kRuns; ++r) {
        Tensor x(DType::kFloat64, {16});
        for (int i = 0; i < 16; ++i) x.data<double>()[i] = i;
        compile::RunTrace trace;
        auto result = exe->Run({x}, {}, &trace);
        ASSERT_TRUE(result.ok()) << result.status();
        profile.Record(trace, 1);
      }
    });
  }
  for (auto& t : threads) t.join();
  v1::GetProfileResponse p;
  profile.Fill("f", *exe, 0, false, &p);
  EXPECT_EQ(p.calls(), kThreads * kRuns);
  EXPECT_EQ(p.time_in_calls_ns(), kThreads * kRuns);
  int64_t sum = 0;
  for (const auto& a : p.applies()) {
    EXPECT_EQ(a.calls(), kThreads * kRuns);
    sum += a.time_ns();
  }
  EXPECT_EQ(sum, p.time_in_thunks_ns());
  EXPECT_GT(sum, 0);
}

TEST(FunctionProfile, OptimizerSectionOnRequest) {
  auto exe = Build();
  FunctionProfile profile(exe->instructions().size());
  v1::GetProfileResponse plain, with;
  profile.Fill("f", *exe, 0, false, &plain);
  profile.Fill("f", *exe, 0, true, &with);
  ASSERT_EQ(with.optimizer_passes_size(), static_cast<int>(exe->optimizer_passes().size()));
  EXPECT_GT(with.optimizer_passes_size(), 0);
  EXPECT_EQ(plain.summary().find("Optimizer Profile"), std::string::npos);
  EXPECT_NE(with.summary().find("Optimizer Profile"), std::string::npos);
  for (const auto& pass : with.optimizer_passes()) {
    EXPECT_NE(with.summary().find(pass.name()), std::string::npos) << pass.name();
  }
}

TEST(ProfileClassName, MapsOpFamiliesToTheanoClasses) {
  EXPECT_EQ(ProfileClassName("Elemwise{add,no_inplace}"), "theano.tensor.elemwise.Elemwise");
  EXPECT_EQ(ProfileClassName("InplaceDimShuffle{x,0}"), "theano.tensor.elemwise.DimShuffle");
  EXPECT_EQ(ProfileClassName("Sum{axis=[0], acc_dtype=float64}"), "theano.tensor.elemwise.Sum");
  EXPECT_EQ(ProfileClassName("dot"), "theano.tensor.basic.Dot");
  EXPECT_EQ(ProfileClassName("for{cpu,scan_fn}"), "theano.scan_module.scan_op.Scan");
  EXPECT_EQ(ProfileClassName("Reshape{2}"), "theano.tensor.basic.Reshape");
  EXPECT_EQ(ProfileClassName("frobnicate"), "tensord.ops.frobnicate");
}

}  // namespace
}  // namespace tensord::server
