// Lazy ifelse: only the taken branch's exclusive instructions run. The branches below contain
// an add of vectors of different lengths, which fails when it runs, so a run that succeeds
// proves the branch was skipped.
#include <gtest/gtest.h>

#include "engine/compile/compiler.h"
#include "engine/compile/executable.h"
#include "engine/compile/testing_util.h"
#include "engine/ops/op_def.h"

namespace tensord::compile {
namespace {

using runtime::Tensor;
using testing::Build;
using testing::Node;

Tensor Vec(std::vector<float> v) {
  Tensor t(DType::kFloat32, {static_cast<int64_t>(v.size())});
  for (size_t i = 0; i < v.size(); ++i) t.data<float>()[i] = v[i];
  return t;
}

Tensor Scalar(double v) {
  Tensor t(DType::kFloat64, {});
  t.data<double>()[0] = v;
  return t;
}

std::vector<float> Values(const Tensor& t) {
  return std::vector<float>(t.data<float>(), t.data<float>() + t.num_elements());
}

// out = ifelse(c, a + b, a - b): with b longer than a, only the branch's own add/sub fails.
std::shared_ptr<Executable> TwoBranches() {
  auto g = std::make_unique<ir::Graph>();
  auto* c = g->AddInput(ir::Type::Of(DType::kFloat64, 0), "c");
  auto* a = g->AddInput(ir::Type::Of(DType::kFloat32, 1), "a");
  auto* b = g->AddInput(ir::Type::Of(DType::kFloat32, 1), "b");
  g->inputs() = {c, a, b};
  g->outputs() = {Node(*g, "ifelse", {c, Node(*g, "add", {a, b}), Node(*g, "sub", {a, b})})};
  return Build(std::move(g));
}

TEST(LazyIfElse, TheBranchNotTakenDoesNotRun) {
  auto exe = TwoBranches();
  // Both branches fail on mismatched lengths when they run; the other one is skipped.
  for (double c : {1.0, 0.0, -2.5}) {
    auto r = exe->Run({Scalar(c), Vec({1, 2}), Vec({1, 2, 3})}, {});
    ASSERT_FALSE(r.ok()) << "condition " << c;
    EXPECT_NE(r.status().message().find(c != 0 ? "add" : "sub"), std::string::npos) << r.status();
  }
  // Values of both branches; NaN counts as true.
  auto then_r = exe->Run({Scalar(std::nan("")), Vec({1, 2}), Vec({10, 20})}, {});
  ASSERT_TRUE(then_r.ok()) << then_r.status();
  EXPECT_EQ(Values(then_r->outputs[0]), (std::vector<float>{11, 22}));
  auto else_r = exe->Run({Scalar(0), Vec({1, 2}), Vec({10, 20})}, {});
  ASSERT_TRUE(else_r.ok()) << else_r.status();
  EXPECT_EQ(Values(else_r->outputs[0]), (std::vector<float>{-9, -18}));
  // The same executable, alternating: frames reuse stale slots safely.
  for (int i = 0; i < 4; ++i) {
    auto r = exe->Run({Scalar(i % 2), Vec({1, 2}), Vec({10, 20})}, {});
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(Values(r->outputs[0]),
              (i % 2 ? std::vector<float>{11, 22} : std::vector<float>{-9, -18}));
  }
}

TEST(LazyIfElse, GuardedInstructionsAreNotTimed) {
  auto exe = TwoBranches();
  RunTrace trace;
  ASSERT_TRUE(exe->Run({Scalar(1), Vec({1, 2}), Vec({1, 2})}, {}, &trace).ok());
  int skipped = 0;
  for (size_t i = 0; i < trace.duration_ns.size(); ++i) {
    if (trace.duration_ns[i] < 0) {
      ++skipped;
      EXPECT_FALSE(exe->instructions()[i].guards.empty());
    }
  }
  EXPECT_EQ(skipped, 1);
}

TEST(LazyIfElse, NestedIfElse) {
  // out = ifelse(c1, ifelse(c2, a + b, -a), a - b)
  auto g = std::make_unique<ir::Graph>();
  auto* c1 = g->AddInput(ir::Type::Of(DType::kFloat64, 0), "c1");
  auto* c2 = g->AddInput(ir::Type::Of(DType::kFloat64, 0), "c2");
  auto* a = g->AddInput(ir::Type::Of(DType::kFloat32, 1), "a");
  auto* b = g->AddInput(ir::Type::Of(DType::kFloat32, 1), "b");
  g->inputs() = {c1, c2, a, b};
  auto* inner = Node(*g, "ifelse", {c2, Node(*g, "add", {a, b}), Node(*g, "neg", {a})});
  g->outputs() = {Node(*g, "ifelse", {c1, inner, Node(*g, "sub", {a, b})})};
  auto exe = Build(std::move(g));
  // Mismatched b: only the neg path can succeed.
  auto ok = exe->Run({Scalar(1), Scalar(0), Vec({1, 2}), Vec({1, 2, 3})}, {});
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(Values(ok->outputs[0]), (std::vector<float>{-1, -2}));
  EXPECT_FALSE(exe->Run({Scalar(1), Scalar(1), Vec({1, 2}), Vec({1, 2, 3})}, {}).ok());
  EXPECT_FALSE(exe->Run({Scalar(0), Scalar(0), Vec({1, 2}), Vec({1, 2, 3})}, {}).ok());
  // Matching b: all three paths' values.
  struct Case {
    double c1, c2;
    std::vector<float> want;
  };
  for (const Case& k :
       {Case{1, 1, {11, 22}}, Case{1, 0, {-1, -2}}, Case{0, 1, {-9, -18}}, Case{0, 0, {-9, -18}}}) {
    auto r = exe->Run({Scalar(k.c1), Scalar(k.c2), Vec({1, 2}), Vec({10, 20})}, {});
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(Values(r->outputs[0]), k.want) << k.c1 << " " << k.c2;
  }
}

TEST(LazyIfElse, NodesSharedWithTheConditionOrBothBranchesStillRun) {
  // s = exp(a); c = sum(s) > limit; out = ifelse(c, s + a, s - a), and s itself is an output.
  auto g = std::make_unique<ir::Graph>();
  auto* limit = g->AddInput(ir::Type::Of(DType::kFloat32, 0), "limit");
  auto* a = g->AddInput(ir::Type::Of(DType::kFloat32, 1), "a");
  g->inputs() = {limit, a};
  auto* s = Node(*g, "exp", {a});
  auto* c = Node(*g, "gt", {Node(*g, "sum", {s}, {{"axis", std::vector<int64_t>{0}}}), limit});
  auto* t = Node(*g, "add", {s, a});
  auto* e = Node(*g, "sub", {s, a});
  g->outputs() = {Node(*g, "ifelse", {c, t, e}), s};
  auto exe = Build(std::move(g));
  auto scalar32 = [](float v) {
    Tensor x(DType::kFloat32, {});
    x.data<float>()[0] = v;
    return x;
  };
  for (float lim : {0.0f, 100.0f}) {
    auto r = exe->Run({scalar32(lim), Vec({0, 1})}, {});
    ASSERT_TRUE(r.ok()) << r.status();
    const float e1 = std::exp(1.0f);
    std::vector<float> want =
        lim == 0 ? std::vector<float>{1, e1 + 1} : std::vector<float>{1, e1 - 1};
    std::vector<float> got = Values(r->outputs[0]);
    ASSERT_EQ(got.size(), 2u);
    for (int i = 0; i < 2; ++i) EXPECT_NEAR(got[i], want[i], 1e-5) << lim;
    std::vector<float> sv = Values(r->outputs[1]);
    EXPECT_NEAR(sv[0], 1, 1e-6);
    EXPECT_NEAR(sv[1], e1, 1e-5);
  }
}

}  // namespace
}  // namespace tensord::compile
