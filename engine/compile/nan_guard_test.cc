#include "engine/compile/nan_guard.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "engine/compile/compiler.h"
#include "engine/compile/modes.h"
#include "engine/ops/node_builder.h"

namespace tensord::compile {
namespace {

using runtime::Tensor;

Tensor Vec(std::vector<double> values) {
  Tensor t(DType::kFloat64, {static_cast<int64_t>(values.size())});
  for (size_t i = 0; i < values.size(); ++i) t.data<double>()[i] = values[i];
  return t;
}

// f(x) = build(x) for a float64 vector x, compiled in `mode`.
std::shared_ptr<Executable> Compile(
    const std::function<ir::Variable*(ops::NodeBuilder&, ir::Variable*)>& build,
    const std::string& mode, NanGuardOptions guard = {}) {
  auto g = std::make_unique<ir::Graph>();
  auto* x = g->AddInput(ir::Type::Of(DType::kFloat64, 1), "x");
  g->inputs() = {x};
  ops::NodeBuilder b(*g);
  ir::Variable* y = build(b, x);
  EXPECT_TRUE(b.status().ok()) << b.status();
  g->outputs() = {y};
  CompileOptions options;
  options.mode = mode;
  options.nan_guard = guard;
  auto prepared = PrepareFunction(std::move(g), {}, {}, options);
  EXPECT_TRUE(prepared.ok()) << prepared.status();
  auto exe = BuildExecutable(*std::move(prepared));
  EXPECT_TRUE(exe.ok()) << exe.status();
  return *exe;
}

std::string RunError(const Executable& exe, Tensor x) {
  auto r = exe.Run({std::move(x)}, {});
  if (r.ok()) return "";
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << r.status();
  return std::string(r.status().message());
}

auto Log = [](ops::NodeBuilder& b, ir::Variable* x) { return b.Apply("log", {x}); };

TEST(NanGuardMode, NamesTheNodeThatProducedNan) {
  auto exe = Compile(Log, "NanGuardMode");
  EXPECT_EQ(RunError(*exe, Vec({1, 2, 3, -1, 5})),
            "NanGuardMode: log(x) produced nan at index 3 (shape (5,))");
}

TEST(NanGuardMode, InfFromDivisionByZero) {
  auto exe = Compile(
      [](ops::NodeBuilder& b, ir::Variable* x) { return b.Div(b.Constant(1, DType::kFloat64), x); },
      "NanGuardMode");
  // The optimizer may rewrite 1/x (to a reciprocal, say): only the node's label depends on it.
  std::string err = RunError(*exe, Vec({1, 0}));
  EXPECT_EQ(err.rfind("NanGuardMode: ", 0), 0u) << err;
  EXPECT_NE(err.find("produced inf at index 1"), std::string::npos) << err;
  EXPECT_NE(RunError(*exe, Vec({-0.0})).find("produced -inf"), std::string::npos);
}

TEST(NanGuardMode, BigValuesFromOverflowingProducts) {
  // 1e20 * 1e20 = 1e40 is finite in float64 but far beyond Theano's "big" threshold 1e10.
  auto exe =
      Compile([](ops::NodeBuilder& b, ir::Variable* x) { return b.Mul(x, x); }, "NanGuardMode");
  std::string err = RunError(*exe, Vec({1, 1e20}));
  EXPECT_EQ(err.rfind("NanGuardMode: ", 0), 0u) << err;  // mul(x, x), or sqr(x) once specialized
  EXPECT_NE(err.find("produced a big value 1e+40 (abs > 1e+10) at index 1 (shape (2,))"),
            std::string::npos)
      << err;
  // The first node that goes wrong is reported, not the last (sum is never fused with log).
  auto chain =
      Compile([](ops::NodeBuilder& b, ir::Variable* x) { return b.Sum(b.Apply("log", {x}), {0}); },
              "NanGuardMode");
  EXPECT_EQ(RunError(*chain, Vec({-1})),
            "NanGuardMode: log(x) produced nan at index 0 (shape (1,))");
}

TEST(NanGuardMode, SilentOnCleanDataAndOutsideTheMode) {
  auto guarded = Compile(Log, "NanGuardMode");
  auto r = guarded->Run({Vec({1, 2, 1e9})}, {});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_DOUBLE_EQ(r->outputs[0].data<double>()[0], 0);
  // FAST_RUN pays nothing and reports nothing: NaN is a legitimate value there.
  auto plain = Compile(Log, "FAST_RUN");
  auto p = plain->Run({Vec({-1})}, {});
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_TRUE(std::isnan(p->outputs[0].data<double>()[0]));
}

TEST(NanGuardMode, FlagsSelectWhatIsAnError) {
  auto lenient = Compile(Log, "NanGuardMode", {.nan_is_error = false});
  EXPECT_EQ(RunError(*lenient, Vec({-1})), "");
  EXPECT_NE(RunError(*lenient, Vec({0})).find("produced -inf"), std::string::npos);
  auto no_big = Compile([](ops::NodeBuilder& b, ir::Variable* x) { return b.Mul(x, x); },
                        "NanGuardMode", {.big_is_error = false});
  EXPECT_EQ(RunError(*no_big, Vec({1e20})), "");
  EXPECT_NE(RunError(*no_big, Vec({1e200})).find("produced inf"), std::string::npos);
}

TEST(NanGuardMode, CacheKeyIncludesTheFlags) {
  auto key = [](NanGuardOptions guard) {
    auto g = std::make_unique<ir::Graph>();
    auto* x = g->AddInput(ir::Type::Of(DType::kFloat64, 1), "x");
    g->inputs() = {x};
    g->outputs() = {x};
    CompileOptions options;
    options.mode = "NanGuardMode";
    options.nan_guard = guard;
    return PrepareFunction(std::move(g), {}, {}, options)->canonical.key;
  };
  EXPECT_NE(key({}), key({.inf_is_error = false}));
  EXPECT_EQ(key({}), key({}));
}

TEST(CheckNanGuard, StridedViewsAndMatricesReportTheElement) {
  Tensor m(DType::kFloat32, {2, 3});
  for (int i = 0; i < 6; ++i) m.data<float>()[i] = static_cast<float>(i);
  m.data<float>()[4] = std::numeric_limits<float>::quiet_NaN();  // element (1, 1)
  Tensor* outs[] = {&m};
  absl::Status s = CheckNanGuard({}, "op(a)", outs);
  EXPECT_EQ(s.message(), "NanGuardMode: op(a) produced nan at index (1, 1) (shape (2, 3))");
  // The transpose reads element (1, 1) of m as its (1, 1) too; (0, 1) of m is (1, 0) of it.
  m.data<float>()[4] = 0;
  m.data<float>()[1] = std::numeric_limits<float>::infinity();
  Tensor t = m.StridedView({3, 2}, {1, 3}, 0);
  Tensor* touts[] = {&t};
  EXPECT_NE(CheckNanGuard({}, "T", touts).message().find("inf at index (1, 0)"), std::string::npos);
  // Integer tensors cannot hold nan: never checked.
  Tensor ints(DType::kInt64, {2});
  ints.data<int64_t>()[0] = int64_t{1} << 60;
  ints.data<int64_t>()[1] = 0;
  Tensor* iouts[] = {&ints};
  EXPECT_TRUE(CheckNanGuard({}, "i", iouts).ok());
}

}  // namespace
}  // namespace tensord::compile
