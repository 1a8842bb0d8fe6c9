#include "server/device_arrays.h"

#include <gtest/gtest.h>

namespace tensord::server {
namespace {

const context::Context kDev0{.name = "dev0", .device = "sim0"};

DeviceArray Floats(int n) { return {runtime::Tensor(DType::kFloat32, {n}), &kDev0}; }

TEST(DeviceArrayStore, HoldsArraysUnderUnguessableIdsChargedToTheBudgets) {
  auto budget = std::make_shared<runtime::ByteBudget>(100, "the session", "--limit");
  {
    DeviceArrayStore store({budget});
    v1::TensorRef a, b;
    DeviceArrayStore::Describe(Floats(4), &a);
    DeviceArrayStore::Describe(Floats(8), &b);
    store.Hold(a, Floats(4));
    store.Hold(b, Floats(8));
    EXPECT_NE(a.id(), b.id());
    EXPECT_EQ(a.id().substr(0, 3), "da-");
    EXPECT_EQ(a.id().size(), 35u);
    EXPECT_EQ(a.context(), "dev0");
    EXPECT_EQ(b.dtype(), v1::DT_FLOAT32);
    ASSERT_EQ(b.shape_size(), 1);
    EXPECT_EQ(b.shape(0), 8);
    EXPECT_EQ(budget->bytes(), 48);
    auto found = store.Find(a.id());
    ASSERT_TRUE(found.ok()) << found.status();
    EXPECT_EQ(found->value.num_bytes(), 16u);
    // Room is checked against every budget before a run stores its outputs.
    EXPECT_TRUE(store.CheckRoom(52).ok());
    absl::Status full = store.CheckRoom(53);
    EXPECT_EQ(full.code(), absl::StatusCode::kResourceExhausted);
    EXPECT_NE(full.message().find("--limit"), std::string::npos) << full;
    ASSERT_TRUE(store.Release({a.id()}).ok());
    EXPECT_EQ(budget->bytes(), 32);
    EXPECT_EQ(store.Find(a.id()).status().code(), absl::StatusCode::kNotFound);
  }
  // A closed session's store credits what it still held.
  EXPECT_EQ(budget->bytes(), 0);
}

TEST(DeviceArrayStore, ReleaseIsAllOrNothingUnlessUnknownIdsAreIgnored) {
  DeviceArrayStore store({});
  v1::TensorRef a;
  DeviceArrayStore::Describe(Floats(1), &a);
  store.Hold(a, Floats(1));
  absl::Status s = store.Release({a.id(), "da-nope"});
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_NE(s.message().find("da-nope"), std::string::npos) << s;
  EXPECT_EQ(store.size(), 1u);
  EXPECT_TRUE(store.Release({"da-nope", a.id(), a.id()}, /*ignore_unknown=*/true).ok());
  EXPECT_EQ(store.size(), 0u);
}

}  // namespace
}  // namespace tensord::server
