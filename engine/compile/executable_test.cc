#include "engine/compile/executable.h"

#include <gtest/gtest.h>

#include <cmath>

#include "engine/compile/compiler.h"
#include "engine/compile/executable_cache.h"
#include "engine/compile/modes.h"
#include "engine/compile/testing_util.h"
#include "engine/ops/op_def.h"
#include "engine/runtime/host_allocator.h"
#include "engine/runtime/parallel.h"

namespace tensord::compile {
namespace {

using runtime::Tensor;
using testing::Build;
using testing::Node;

template <typename T>
Tensor Make(DType d, runtime::Shape shape, std::vector<T> values) {
  Tensor t(d, std::move(shape));
  for (size_t i = 0; i < values.size(); ++i) t.data<T>()[i] = values[i];
  return t;
}

TEST(Executable, BroadcastAddWithMixedDTypesCastsFirst) {
  auto g = std::make_unique<ir::Graph>();
  auto* x = g->AddInput(ir::Type::Of(DType::kFloat32, 2), "x");
  auto* v = g->AddInput(ir::Type::Of(DType::kInt32, 1), "v");
  g->inputs() = {x, v};
  g->outputs() = {Node(*g, "add", {x, v})};
  EXPECT_EQ(g->outputs()[0]->type.dtype, DType::kFloat64);  // numpy: float32 + int32
  auto exe = Build(std::move(g));
  auto r = exe->Run({Make<float>(DType::kFloat32, {2, 3}, {1, 2, 3, 4, 5, 6}),
                     Make<int32_t>(DType::kInt32, {3}, {10, 20, 30})},
                    {});
  ASSERT_TRUE(r.ok()) << r.status();
  const Tensor& out = r->outputs[0];
  ASSERT_EQ(out.shape(), (runtime::Shape{2, 3}));
  const double want[] = {11, 22, 33, 14, 25, 36};
  for (int i = 0; i < 6; ++i) EXPECT_DOUBLE_EQ(out.data<double>()[i], want[i]);
}

TEST(Executable, TraceTimesEveryInstructionWithTheanoNames) {
  auto g = std::make_unique<ir::Graph>();
  auto* x = g->AddInput(ir::Type::Of(DType::kFloat32, 2), "x");
  auto* v = g->AddInput(ir::Type::Of(DType::kInt32, 1), "v");
  g->inputs() = {x, v};
  g->outputs() = {Node(*g, "add", {x, v})};
  auto exe = Build(std::move(g));
  auto inputs = [] {
    return std::vector<Tensor>{Make<float>(DType::kFloat32, {1, 3}, {1, 2, 3}),
                               Make<int32_t>(DType::kInt32, {3}, {1, 2, 3})};
  };
  RunTrace trace;
  ASSERT_TRUE(exe->Run(inputs(), {}, &trace).ok());
  ASSERT_EQ(trace.duration_ns.size(), exe->instructions().size());
  ASSERT_EQ(trace.start_ns.size(), exe->instructions().size());
  for (size_t i = 0; i < trace.duration_ns.size(); ++i) {
    EXPECT_GE(trace.duration_ns[i], 0);
    if (i > 0) {
      EXPECT_GE(trace.start_ns[i], trace.start_ns[i - 1] + trace.duration_ns[i - 1]);
    }
  }
  const Instruction& last = exe->instructions().back();
  EXPECT_EQ(last.op_name.rfind("Elemwise{add", 0), 0u) << last.op_name;
  EXPECT_NE(last.theano_label.find("(x, "), std::string::npos) << last.theano_label;
  // The casts the compiler inserts are named as Theano's Cast ops.
  EXPECT_EQ(exe->instructions().front().op_name.rfind("Elemwise{Cast{", 0), 0u);
  // A failing run still fills a full-size trace (instructions not reached stay -1).
  RunTrace failed;
  EXPECT_FALSE(exe->Run({Make<float>(DType::kFloat32, {1, 2}, {1, 2}),
                         Make<int32_t>(DType::kInt32, {3}, {1, 2, 3})},
                        {}, &failed)
                   .ok());
  ASSERT_EQ(failed.duration_ns.size(), exe->instructions().size());
  EXPECT_TRUE(exe->Run(inputs(), {}).ok());
}

TEST(Executable, DotSumAndMax) {
  auto g = std::make_unique<ir::Graph>();
  auto* a = g->AddInput(ir::Type::Of(DType::kFloat64, 2), "a");
  auto* b = g->AddInput(ir::Type::Of(DType::kFloat64, 2), "b");
  g->inputs() = {a, b};
  auto* d = Node(*g, "dot", {a, b});
  g->outputs() = {d, Node(*g, "sum", {d}, {{"axis", std::vector<int64_t>{0}}}),
                  Node(*g, "max", {a}, {{"axis", std::vector<int64_t>{-1}}})};
  auto exe = Build(std::move(g));
  // a is 2x3, b is 3x2; reference computed by the loops below.
  std::vector<double> av = {1, 2, 3, 4, 5, std::nan("")}, bv = {1, 0, 0, 1, 1, 1};
  auto r = exe->Run(
      {Make<double>(DType::kFloat64, {2, 3}, av), Make<double>(DType::kFloat64, {3, 2}, bv)}, {});
  ASSERT_TRUE(r.ok()) << r.status();
  double want[2][2] = {};
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 2; ++j)
      for (int k = 0; k < 3; ++k) want[i][j] += av[i * 3 + k] * bv[k * 2 + j];
  auto same = [](double got, double expected) {
    return std::isnan(expected) ? std::isnan(got) : got == expected;
  };
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 2; ++j)
      EXPECT_TRUE(same(r->outputs[0].data<double>()[i * 2 + j], want[i][j]));
  for (int j = 0; j < 2; ++j) {
    EXPECT_TRUE(same(r->outputs[1].data<double>()[j], want[0][j] + want[1][j]));
  }
  EXPECT_DOUBLE_EQ(r->outputs[2].data<double>()[0], 3);
  EXPECT_TRUE(std::isnan(r->outputs[2].data<double>()[1]));  // NaN propagates like NumPy
}

TEST(Executable, ReportsRuntimeShapeErrorsWithTheNode) {
  auto g = std::make_unique<ir::Graph>();
  auto* a = g->AddInput(ir::Type::Of(DType::kFloat32, 1), "a");
  auto* b = g->AddInput(ir::Type::Of(DType::kFloat32, 1), "b");
  g->inputs() = {a, b};
  g->outputs() = {Node(*g, "add", {a, b})};
  auto exe = Build(std::move(g));
  auto r = exe->Run(
      {Make<float>(DType::kFloat32, {2}, {1, 2}), Make<float>(DType::kFloat32, {3}, {1, 2, 3})},
      {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("add(a, b)"), std::string::npos) << r.status();
  EXPECT_NE(r.status().message().find("cannot be broadcast"), std::string::npos) << r.status();
}

TEST(Executable, RefusesLossyInputUnlessAllowed) {
  auto g = std::make_unique<ir::Graph>();
  auto* x = g->AddInput(ir::Type::Of(DType::kFloat32, 1), "x");
  g->inputs() = {x};
  g->outputs() = {Node(*g, "neg", {x})};
  auto exe = Build(std::move(g));
  auto r = exe->Run({Make<double>(DType::kFloat64, {1}, {1.0})}, {});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("allow_input_downcast=True"), std::string::npos);
  auto ok = exe->Run({Make<int8_t>(DType::kInt8, {1}, {3})}, {});  // int8 -> float32 is safe
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_FLOAT_EQ(ok->outputs[0].data<float>()[0], -3.f);
}

TEST(Executable, UpdatesAndRepeatedRunsReuseFrames) {
  auto g = std::make_unique<ir::Graph>();
  auto* w = g->AddShared(ir::Type::Scalar(DType::kFloat64), "shared-1", "w");
  auto* x = g->AddInput(ir::Type::Scalar(DType::kFloat64), "x");
  g->inputs() = {x};
  auto* wx = Node(*g, "mul", {w, x});
  auto exe = Build(std::move(g), {{w, wx}});
  ASSERT_EQ(exe->shared_params().size(), 1u);
  Tensor value = Make<double>(DType::kFloat64, {}, {1.0});
  for (int step = 0; step < 3; ++step) {
    auto r = exe->Run({Make<double>(DType::kFloat64, {}, {4.0})}, {value});
    ASSERT_TRUE(r.ok()) << r.status();
    ASSERT_EQ(r->updates.size(), 1u);
    value = r->updates[0];
  }
  EXPECT_DOUBLE_EQ(value.data<double>()[0], 64.0);
}

// A training loop's steady state: each step's input is a new tensor (as decoded from a request),
// its output is dropped once read (as once sent) and the variable's old value once replaced.
// After the first steps every buffer comes from the host allocator's cache.
TEST(Executable, SteadyStateRunsAllocateNothingFromTheSystem) {
  auto& allocator = runtime::HostAllocator::Global();
  // Also under AddressSanitizer, which caches none; as it was for the tests after this one.
  struct RestoreLimit {
    int64_t limit = runtime::HostAllocator::Global().cache_limit();
    ~RestoreLimit() { runtime::HostAllocator::Global().SetCacheLimit(limit); }
  } restore;
  allocator.SetCacheLimit(int64_t{64} << 20);
  auto g = std::make_unique<ir::Graph>();
  const auto matrix = ir::Type::Of(DType::kFloat32, 2);
  auto* w = g->AddShared(matrix, "shared-1", "w");
  auto* x = g->AddInput(matrix, "x");
  g->inputs() = {x};
  g->outputs() = {Node(*g, "exp", {Node(*g, "mul", {w, x})})};
  auto* next = Node(*g, "add", {w, x});
  auto exe = Build(std::move(g), {{w, next}});
  Tensor value = Make<float>(DType::kFloat32, {300, 300}, std::vector<float>(90000, 0.0f));
  int64_t system_allocations = 0;
  for (int step = 0; step < 20; ++step) {
    if (step == 3) system_allocations = allocator.stats().system_allocations;
    auto r = exe->Run({Make<float>(DType::kFloat32, {300, 300}, std::vector<float>(90000, 1.0f))},
                      {value});
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_FLOAT_EQ(r->outputs[0].data<float>()[0], std::exp(static_cast<float>(step)));
    value = r->updates[0];
  }
  EXPECT_EQ(allocator.stats().system_allocations, system_allocations);
  EXPECT_FLOAT_EQ(value.data<float>()[89999], 20.0f);
}

// A full variance's second pass is split into fixed chunks over the threads and their sums are
// added in chunk order: the same bits on one thread as on three, and close to a plain loop.
TEST(Executable, FullVarianceIsTheSameOnAnyThreadCount) {
  auto g = std::make_unique<ir::Graph>();
  auto* x = g->AddInput(ir::Type::Of(DType::kFloat64, 1), "x");
  g->inputs() = {x};
  g->outputs() = {Node(*g, "var", {x})};
  auto exe = Build(std::move(g));
  const int64_t n = 300001;  // several chunks and a ragged last one
  std::vector<double> values(n);
  for (int64_t i = 0; i < n; ++i) values[i] = 1e3 + std::sin(static_cast<double>(i));
  double mean = 0, sq = 0;
  for (double v : values) mean += v;
  mean /= n;
  for (double v : values) sq += (v - mean) * (v - mean);
  double first = 0;
  for (int threads : {1, 2, 3}) {
    runtime::SetIntraOpThreads(threads);
    auto r = exe->Run({Make<double>(DType::kFloat64, {n}, values)}, {});
    ASSERT_TRUE(r.ok()) << r.status();
    const double got = r->outputs[0].data<double>()[0];
    if (threads == 1) first = got;
    EXPECT_EQ(got, first) << threads << " threads";
    EXPECT_NEAR(got, sq / n, 1e-12) << threads << " threads";
  }
  runtime::SetIntraOpThreads(0);
}

TEST(PrepareFunction, GivensAreReorderedAndCyclesRefused) {
  // f(z) = x + y with givens x -> z * 2, y -> z + 1: the given values come after their users.
  auto g = std::make_unique<ir::Graph>();
  auto* x = g->AddInput(ir::Type::Scalar(DType::kFloat64), "x");
  auto* y = g->AddInput(ir::Type::Scalar(DType::kFloat64), "y");
  auto* z = g->AddInput(ir::Type::Scalar(DType::kFloat64), "z");
  g->inputs() = {z};
  g->outputs() = {Node(*g, "add", {x, y})};
  auto* two =
      g->AddConstant(Make<double>(DType::kFloat64, {}, {2}), ir::Type::Scalar(DType::kFloat64));
  auto* z2 = Node(*g, "mul", {z, two});
  auto* z1 = Node(*g, "add", {z, two});
  auto prepared = PrepareFunction(std::move(g), {}, {{x, z2}, {y, z1}}, CompileOptions{});
  ASSERT_TRUE(prepared.ok()) << prepared.status();
  auto exe = BuildExecutable(*std::move(prepared));
  ASSERT_TRUE(exe.ok()) << exe.status();
  auto r = (*exe)->Run({Make<double>(DType::kFloat64, {}, {3})}, {});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_DOUBLE_EQ(r->outputs[0].data<double>()[0], 3 * 2 + (3 + 2));

  auto c = std::make_unique<ir::Graph>();
  auto* a = c->AddInput(ir::Type::Scalar(DType::kFloat64), "a");
  c->inputs() = {};
  auto* na = Node(*c, "neg", {a});
  c->outputs() = {na};
  auto cyclic = PrepareFunction(std::move(c), {}, {{a, na}}, CompileOptions{});
  ASSERT_FALSE(cyclic.ok());
  EXPECT_EQ(cyclic.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(cyclic.status().message().find("cycle"), std::string::npos) << cyclic.status();
}

TEST(Canonicalize, AttributeKeysCannotImitateBoundaries) {
  // Two sums whose attribute maps would print alike if keys were not length-prefixed.
  auto key_of = [](ir::Attrs attrs) {
    ir::Graph g;
    auto* x = g.AddInput(ir::Type::Of(DType::kFloat32, 2), "x");
    g.inputs() = {x};
    g.outputs() = {
        g.AddApply("sum", std::move(attrs), {x}, {ir::Type::Of(DType::kFloat32, 1)})->outputs[0]};
    return ir::Canonicalize(g, {}, "").key;
  };
  std::string a = key_of({{"a", int64_t{0}},
                          {"axis", std::vector<int64_t>{0}},
                          {"b=i0;axis", std::vector<int64_t>{1}},
                          {"c", int64_t{0}}});
  std::string b = key_of(
      {{"a=i0;axis=I[0];b", int64_t{0}}, {"axis", std::vector<int64_t>{1}}, {"c", int64_t{0}}});
  EXPECT_NE(a, b);
}

TEST(ExecutableCache, SecondIdenticalCompileHits) {
  ExecutableCache cache(8);
  int builds = 0;
  auto build = [&]() -> absl::StatusOr<std::shared_ptr<Executable>> {
    ++builds;
    return std::make_shared<Executable>();
  };
  bool hit = true;
  ASSERT_TRUE(cache.GetOrBuild("k", build, &hit).ok());
  EXPECT_FALSE(hit);
  ASSERT_TRUE(cache.GetOrBuild("k", build, &hit).ok());
  EXPECT_TRUE(hit);
  EXPECT_EQ(builds, 1);
  EXPECT_EQ(cache.hits(), 1);
  EXPECT_EQ(cache.misses(), 1);
}

}  // namespace
}  // namespace tensord::compile
