#include "engine/compile/executable_cache.h"

#include <gtest/gtest.h>

#include <thread>

#include "engine/compile/compiler.h"
#include "engine/compile/modes.h"
#include "engine/ops/node_builder.h"
#include "engine/runtime/interrupt.h"

namespace tensord::compile {
namespace {

// An executable holding a float64 constant of `n` elements (x + c): about 8n bytes.
std::shared_ptr<Executable> WithConstant(int64_t n) {
  auto g = std::make_unique<ir::Graph>();
  auto* x = g->AddInput(ir::Type::Of(DType::kFloat64, 1), "x");
  g->inputs() = {x};
  runtime::Tensor c(DType::kFloat64, {n});
  for (int64_t i = 0; i < n; ++i) c.data<double>()[i] = static_cast<double>(i);
  ops::NodeBuilder b(*g);
  g->outputs() = {b.Add(x, g->AddConstant(c, ir::Type::Of(DType::kFloat64, 1)))};
  auto prepared = PrepareFunction(std::move(g), {}, {}, CompileOptions{});
  EXPECT_TRUE(prepared.ok()) << prepared.status();
  auto exe = BuildExecutable(*std::move(prepared));
  EXPECT_TRUE(exe.ok()) << exe.status();
  return *exe;
}

absl::StatusOr<std::shared_ptr<Executable>> Get(ExecutableCache& cache, const std::string& key,
                                                int64_t n, bool* hit) {
  return cache.GetOrBuild(
      key, [n] { return WithConstant(n); }, hit);
}

TEST(ExecutableCache, ApproximateBytesCountConstants) {
  const size_t small = WithConstant(10)->ApproximateBytes();
  const size_t big = WithConstant(100000)->ApproximateBytes();
  EXPECT_GE(big - small, 8u * (100000 - 10));
  EXPECT_LT(big - small, 8u * (100000 - 10) + 4096);
}

TEST(ExecutableCache, ByteBudgetEvictsLeastRecentlyUsed) {
  const size_t one = WithConstant(100000)->ApproximateBytes();
  ExecutableCache cache(/*max_entries=*/100, /*max_bytes=*/one * 5 / 2);  // room for two
  bool hit = false;
  ASSERT_TRUE(Get(cache, "a", 100000, &hit).ok());  // released at once: evictable
  ASSERT_TRUE(Get(cache, "b", 100000, &hit).ok());
  EXPECT_EQ(cache.bytes(), 2 * one);
  ASSERT_TRUE(Get(cache, "a", 100000, &hit).ok());  // a is now the most recently used
  EXPECT_TRUE(hit);
  ASSERT_TRUE(Get(cache, "c", 100000, &hit).ok());
  EXPECT_EQ(cache.size(), 2u);
  EXPECT_EQ(cache.evictions(), 1);
  EXPECT_EQ(cache.bytes(), 2 * one);
  ASSERT_TRUE(Get(cache, "b", 100000, &hit).ok());
  EXPECT_FALSE(hit);  // b was the one evicted
  ASSERT_TRUE(Get(cache, "a", 100000, &hit).ok());
  EXPECT_FALSE(hit);  // and then a, the least recently used of a and c
  EXPECT_LE(cache.bytes(), one * 5 / 2);
}

TEST(ExecutableCache, EntriesBoundToFunctionsOutliveTheBudget) {
  const size_t one = WithConstant(50000)->ApproximateBytes();
  ExecutableCache cache(100, one);  // room for one
  bool hit = false;
  auto a = Get(cache, "a", 50000, &hit);
  auto b = Get(cache, "b", 50000, &hit);
  ASSERT_TRUE(a.ok() && b.ok());
  // Both are held (as a session's Function would), so the cache is over budget.
  EXPECT_EQ(cache.size(), 2u);
  EXPECT_EQ(cache.bytes(), 2 * one);
  a = absl::StatusOr<std::shared_ptr<Executable>>(nullptr);
  auto c = Get(cache, "c", 10, &hit);  // the next insertion evicts what was released
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(cache.evictions(), 1);
  EXPECT_EQ(cache.size(), 2u);  // b (held) and c
  ASSERT_TRUE(Get(cache, "b", 50000, &hit).ok());
  EXPECT_TRUE(hit);
}

TEST(ExecutableCache, OneExecutableLargerThanTheBudgetIsNotKept) {
  ExecutableCache cache(100, 1000);
  bool hit = false;
  // Kept while its caller holds it, evicted by the next insertion once released.
  ASSERT_TRUE(Get(cache, "huge", 100000, &hit).ok());
  EXPECT_EQ(cache.size(), 1u);
  ASSERT_TRUE(Get(cache, "small", 1, &hit).ok());
  EXPECT_EQ(cache.evictions(), 1);
  EXPECT_EQ(cache.size(), 1u);
  EXPECT_EQ(cache.bytes(), WithConstant(1)->ApproximateBytes());
}

TEST(ExecutableCache, FailedBuildsCountNoBytesAndConcurrentCompilesBuildOnce) {
  ExecutableCache cache(100, 1 << 30);
  bool hit = false;
  auto failed = cache.GetOrBuild(
      "bad", [] { return absl::StatusOr<std::shared_ptr<Executable>>(InvalidArgument("no")); },
      &hit);
  EXPECT_FALSE(failed.ok());
  EXPECT_EQ(cache.bytes(), 0u);
  EXPECT_EQ(cache.size(), 0u);

  std::atomic<int> builds{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] {
      bool h = false;
      auto r = cache.GetOrBuild(
          "k",
          [&] {
            ++builds;
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
            return WithConstant(1000);
          },
          &h);
      EXPECT_TRUE(r.ok());
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(builds.load(), 1);
  EXPECT_EQ(cache.misses(), 2);  // "bad" and the first "k"
  EXPECT_EQ(cache.hits(), 7);
  EXPECT_EQ(cache.bytes(), WithConstant(1000)->ApproximateBytes());
}

// A caller waiting on another's build of the same key: it stops at its own deadline, and when
// the builder is the one whose client gave up, it builds the key itself instead of failing.
TEST(ExecutableCache, WaitersHonourTheirOwnDeadlineAndOutliveAnInterruptedBuilder) {
  ExecutableCache cache(10);
  std::atomic<bool> building{false};
  absl::Status first;
  std::thread impatient([&] {
    runtime::ScopedInterrupt soon(
        {.deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(200)});
    bool hit = false;
    first = cache
                .GetOrBuild(
                    "k",
                    [&]() -> absl::StatusOr<std::shared_ptr<Executable>> {
                      building = true;
                      while (runtime::CheckInterrupted().ok()) {
                        std::this_thread::sleep_for(std::chrono::milliseconds(5));
                      }
                      return runtime::CheckInterrupted();
                    },
                    &hit)
                .status();
  });
  while (!building) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  {
    // A second waiter with an even shorter deadline gives up on its own.
    runtime::ScopedInterrupt sooner(
        {.deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(50)});
    bool hit = false;
    auto r = Get(cache, "k", 10, &hit);
    EXPECT_EQ(r.status().code(), absl::StatusCode::kDeadlineExceeded) << r.status();
  }
  // A patient waiter outlives the interrupted builder and builds the executable itself.
  bool hit = true;
  auto patient = Get(cache, "k", 10, &hit);
  impatient.join();
  EXPECT_EQ(first.code(), absl::StatusCode::kDeadlineExceeded) << first;
  ASSERT_TRUE(patient.ok()) << patient.status();
  EXPECT_FALSE(hit);
  EXPECT_EQ(cache.size(), 1u);
}

}  // namespace
}  // namespace tensord::compile

namespace tensord::compile {
namespace {

// Placement depends on where the shared variables live, so the same graph reading a variable
// on another context is another cache entry (and placing it there charges that context).
TEST(ExecutableCache, SharedVariablesContextsArePartOfTheKey) {
  auto registry = context::ContextRegistry::Create("dev0->sim0", "cpu");
  ASSERT_TRUE(registry.ok()) << registry.status();
  auto key_with_w_on = [&](const std::string& context) {
    auto g = std::make_unique<ir::Graph>();
    ir::Variable* w = g->AddShared(ir::Type::Of(DType::kFloat32, 1), "w", "w");
    ops::NodeBuilder b(*g);
    g->outputs() = {b.Apply("exp", {w})};
    CompileOptions options;
    options.contexts = registry->get();
    options.shared_context = {{"w", context}};
    auto prepared = PrepareFunction(std::move(g), {}, {}, options);
    EXPECT_TRUE(prepared.ok()) << prepared.status();
    return prepared->canonical.key;
  };
  EXPECT_EQ(key_with_w_on("cpu"), key_with_w_on("cpu"));
  EXPECT_NE(key_with_w_on("cpu"), key_with_w_on("dev0"));
}

}  // namespace
}  // namespace tensord::compile
