// allow_gc: a run drops each intermediate after its last reader (drop_plan.h), so its peak is
// its live set; with keep_intermediates every intermediate lives until the run ends and the
// idle executable keeps them. Measured on a memory counter of the test's own.
#include "engine/compile/drop_plan.h"

#include <gtest/gtest.h>

#include <cmath>

#include "engine/compile/testing_util.h"
#include "engine/passes/pipeline.h"
#include "engine/runtime/memory_stats.h"

namespace tensord::compile {
namespace {

using runtime::Tensor;
using testing::Node;

constexpr int64_t kN = 1 << 17;
constexpr int64_t kBytes = kN * 8;  // one float64 vector
constexpr int kSteps = 8;

// `g` built with no optimizer pass, so each node is an instruction with a buffer of its own.
std::shared_ptr<Executable> BuildUnoptimized(std::unique_ptr<ir::Graph> g, bool keep = false) {
  CompileOptions options;
  options.optimizer_excluding = passes::Pipeline::AllPassNames();
  options.keep_intermediates = keep;
  auto prepared = PrepareFunction(std::move(g), {}, {}, options);
  EXPECT_TRUE(prepared.ok()) << prepared.status();
  if (!prepared.ok()) return nullptr;
  auto exe = BuildExecutable(*std::move(prepared));
  EXPECT_TRUE(exe.ok()) << exe.status();
  return exe.ok() ? *exe : nullptr;
}

// x -> exp -> neg -> exp -> neg ... (kSteps unary nodes), then + x, which reads x to the end.
std::shared_ptr<Executable> BuildChain(bool keep) {
  auto g = std::make_unique<ir::Graph>();
  auto* x = g->AddInput(ir::Type::Of(DType::kFloat64, 1), "x");
  g->inputs() = {x};
  ir::Variable* v = x;
  for (int i = 0; i < kSteps; ++i) v = Node(*g, i % 2 == 0 ? "exp" : "neg", {v});
  g->outputs() = {Node(*g, "add", {v, x})};
  return BuildUnoptimized(std::move(g), keep);
}

Tensor Input() {
  Tensor x(DType::kFloat64, {kN});
  for (int64_t i = 0; i < kN; ++i) x.data<double>()[i] = std::sin(0.001 * static_cast<double>(i));
  return x;
}

// The chain computed by a plain loop.
double Expected(double x) {
  double v = x;
  for (int i = 0; i < kSteps; ++i) v = i % 2 == 0 ? std::exp(v) : -v;
  return v + x;
}

void ExpectChainResult(const Tensor& out, const Tensor& x) {
  ASSERT_EQ(out.shape(), runtime::Shape{kN});
  for (int64_t i = 0; i < kN; i += 997) {
    const double want = Expected(x.data<double>()[i]);  // glibc's exp, not the kernels' SLEEF
    EXPECT_NEAR(out.data<double>()[i], want, 1e-14 * std::abs(want)) << i;
  }
}

TEST(DropPlan, EachIntermediateIsDroppedAfterItsLastReader) {
  auto exe = BuildChain(false);
  ASSERT_EQ(exe->instructions().size(), static_cast<size_t>(kSteps + 1));
  for (size_t i = 0; i + 1 < exe->instructions().size(); ++i) {
    // Node i's output dies when node i + 1 has read it; the last node's output is the result.
    EXPECT_EQ(exe->instructions()[i + 1].drops,
              std::vector<int>{exe->instructions()[i].outputs[0]});
  }
  EXPECT_TRUE(exe->instructions()[0].drops.empty());
  EXPECT_FALSE(exe->keeps_intermediates());
  EXPECT_TRUE(BuildChain(true)->keeps_intermediates());
  for (const Instruction& ins : BuildChain(true)->instructions()) EXPECT_TRUE(ins.drops.empty());
}

TEST(DropPlan, ARunsPeakIsItsLiveSetAndAnIdleExecutableHoldsNothing) {
  for (bool keep : {false, true}) {
    SCOPED_TRACE(keep ? "keep_intermediates" : "allow_gc");
    runtime::MemoryCounter counter("drop-plan-test");  // outlives the executable's frames
    auto exe = BuildChain(keep);
    const Tensor x = Input();  // not charged to the counter
    {
      runtime::ScopedMemoryContext scope(&counter);
      for (int run = 0; run < 3; ++run) {
        auto r = exe->Run({x}, {});
        ASSERT_TRUE(r.ok()) << r.status();
        ExpectChainResult(r->outputs[0], x);
      }
    }
    if (keep) {
      // Every node's output at once; between runs the frame keeps the eight intermediates.
      EXPECT_GE(counter.peak(), (kSteps + 1) * kBytes);
      EXPECT_EQ(counter.in_use(), kSteps * kBytes);
    } else {
      // At most a node's input and output, and the result: never more than two vectors at
      // once, since the result is made when the last intermediate is the only one alive.
      EXPECT_LE(counter.peak(), 2 * kBytes);
      EXPECT_EQ(counter.in_use(), 0);
    }
  }
}

TEST(DropPlan, AMemoryLimitThatHoldsTheLiveSetRunsAChainLongerThanIt) {
  // Three vectors' room: the chain's nine values fit only when dead ones are dropped.
  for (bool keep : {false, true}) {
    runtime::MemoryCounter counter("drop-plan-limit-test");
    auto exe = BuildChain(keep);
    counter.SetLimit(3 * kBytes);
    const Tensor x = Input();
    runtime::ScopedMemoryContext scope(&counter);
    auto r = exe->Run({x}, {});
    if (keep) {
      ASSERT_FALSE(r.ok());
      EXPECT_EQ(r.status().code(), absl::StatusCode::kResourceExhausted) << r.status();
      EXPECT_NE(r.status().message().find("'drop-plan-limit-test' is out of memory"),
                std::string::npos)
          << r.status();
    } else {
      ASSERT_TRUE(r.ok()) << r.status();
      ExpectChainResult(r->outputs[0], x);
    }
  }
}

// A run that fails at a node leaves the intermediates later nodes were to read in their slots:
// the frame drops them too, so a failed run holds nothing either.
TEST(DropPlan, AFailedRunLeavesNothingBehind) {
  auto g = std::make_unique<ir::Graph>();
  auto* x = g->AddInput(ir::Type::Of(DType::kFloat64, 1), "x");
  auto* y = g->AddInput(ir::Type::Of(DType::kFloat64, 1), "y");
  g->inputs() = {x, y};
  auto* e = Node(*g, "exp", {x});
  g->outputs() = {Node(*g, "add", {e, Node(*g, "add", {e, y})})};  // e + (e + y)
  runtime::MemoryCounter counter("drop-plan-failure-test");
  auto exe = BuildUnoptimized(std::move(g));
  ASSERT_NE(exe, nullptr);
  const Tensor x_value = Input(), y_value(DType::kFloat64, {3});
  runtime::ScopedMemoryContext scope(&counter);
  auto r = exe->Run({x_value, y_value}, {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << r.status();
  EXPECT_GE(counter.peak(), kBytes);
  EXPECT_EQ(counter.in_use(), 0);
}

// A view outlives the slot it was made from: dropping that slot releases the slot's reference
// only, so the next node's output cannot take the buffer the view still reads.
TEST(DropPlan, AViewKeepsTheBufferOfADroppedSlot) {
  auto g = std::make_unique<ir::Graph>();
  auto* x = g->AddInput(ir::Type::Of(DType::kFloat64, 2), "x");
  g->inputs() = {x};
  auto* e = Node(*g, "exp", {x});
  auto* t = Node(*g, "dimshuffle", {e}, {{"new_order", std::vector<int64_t>{1, 0}}});
  auto* n =
      Node(*g, "neg", {Node(*g, "dimshuffle", {x}, {{"new_order", std::vector<int64_t>{1, 0}}})});
  g->outputs() = {Node(*g, "add", {t, n})};
  auto exe = BuildUnoptimized(std::move(g));
  ASSERT_NE(exe, nullptr);
  Tensor xv(DType::kFloat64, {300, 200});
  for (int64_t i = 0; i < 300 * 200; ++i) xv.data<double>()[i] = 0.01 * static_cast<double>(i % 97);
  for (int run = 0; run < 3; ++run) {
    auto r = exe->Run({xv}, {});
    ASSERT_TRUE(r.ok()) << r.status();
    const Tensor& out = r->outputs[0];
    ASSERT_EQ(out.shape(), (runtime::Shape{200, 300}));
    for (int64_t i = 0; i < 200; i += 7) {
      for (int64_t j = 0; j < 300; j += 11) {
        const double v = xv.data<double>()[j * 200 + i], want = std::exp(v) - v;
        EXPECT_NEAR(out.data<double>()[i * 300 + j], want, 1e-14 * std::abs(want))
            << i << ", " << j;
      }
    }
  }
}

}  // namespace
}  // namespace tensord::compile
