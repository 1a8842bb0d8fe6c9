#include "engine/runtime/deferred_checks.h"

#include <gtest/gtest.h>

#include <string>

namespace tensord::runtime {
namespace {

TEST(DeferredChecks, RunInOrderTheFirstFailureNamedByItsNode) {
  EXPECT_EQ(DeferredChecks::Current(), nullptr);
  DeferredChecks outer;
  EXPECT_EQ(DeferredChecks::Current(), &outer);
  const std::string first = "gather(x, i)", second = "scatter(x, y, i)";
  int ran = 0;
  outer.SetLabel(&first);
  outer.Add([&] {
    ++ran;
    return absl::OkStatus();
  });
  outer.SetLabel(&second);
  outer.Add([&] {
    ++ran;
    return absl::InvalidArgumentError("index 7 is out of bounds");
  });
  outer.Add([&] {
    ++ran;
    return absl::InvalidArgumentError("a later one");
  });
  {
    DeferredChecks inner;  // a scan body's run: its own checks
    EXPECT_EQ(DeferredChecks::Current(), &inner);
    inner.Add([] { return absl::OkStatus(); });
    EXPECT_TRUE(inner.RunAll().ok());
  }
  EXPECT_EQ(DeferredChecks::Current(), &outer);
  const absl::Status status = outer.RunAll();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(), "in scatter(x, y, i): index 7 is out of bounds");
  EXPECT_EQ(ran, 2);                 // the checks after the failure do not run
  EXPECT_TRUE(outer.RunAll().ok());  // and are forgotten
}

}  // namespace
}  // namespace tensord::runtime
