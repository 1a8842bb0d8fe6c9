#include "engine/context/shared_store.h"

#include <gtest/gtest.h>

namespace tensord::context {
namespace {

Tensor Scalar(double v) {
  Tensor t(DType::kFloat64, {});
  *t.data<double>() = v;
  return t;
}

// The store counts every change a snapshot would record, whoever makes it (server/persistence
// writes a session again only when the count moved).
TEST(SharedStore, CountsCreatesSetsAndDeletesButNotRestores) {
  SharedStore store;
  const ir::Type type = ir::Type::Of(DType::kFloat64, 0);
  ASSERT_TRUE(store.Restore("shared-7", "w", type, nullptr, Scalar(1)).ok());
  EXPECT_EQ(store.changes(), 0u);  // restored values are what the snapshot holds
  auto var = store.Create("b", type, nullptr, Scalar(2));
  ASSERT_TRUE(var.ok()) << var.status();
  EXPECT_EQ(store.changes(), 1u);
  (*var)->Set(Scalar(3));  // SetShared and a run's updates both come here
  EXPECT_EQ(store.changes(), 2u);
  auto restored = store.Find("shared-7");
  ASSERT_TRUE(restored.ok());
  (*restored)->Set(Scalar(4));
  EXPECT_EQ(store.changes(), 3u);
  ASSERT_TRUE(store.Delete((*var)->id()).ok());
  EXPECT_EQ(store.changes(), 4u);
  (*var)->Set(Scalar(5));  // a run still holding a deleted variable changes no snapshot
  EXPECT_EQ(store.changes(), 4u);
}

TEST(SharedStore, AVariableOutlivingItsStoreCanStillBeSet) {
  std::shared_ptr<SharedVariable> var;
  {
    SharedStore store;
    var = *store.Create("w", ir::Type::Of(DType::kFloat64, 0), nullptr, Scalar(1));
  }
  var->Set(Scalar(2));  // under ASan: no write into the gone store's counter
  EXPECT_EQ(*var->Get().data<double>(), 2.0);
}

}  // namespace
}  // namespace tensord::context
