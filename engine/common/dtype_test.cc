#include "engine/common/dtype.h"

#include <gtest/gtest.h>

namespace tensord {
namespace {

// Expected values are numpy.result_type's, written out from NumPy's promotion table.
TEST(DType, PromoteFollowsNumPy) {
  EXPECT_EQ(Promote(DType::kInt32, DType::kFloat32), DType::kFloat64);
  EXPECT_EQ(Promote(DType::kInt16, DType::kFloat32), DType::kFloat32);
  EXPECT_EQ(Promote(DType::kInt8, DType::kUInt8), DType::kInt16);
  EXPECT_EQ(Promote(DType::kInt64, DType::kUInt64), DType::kFloat64);
  EXPECT_EQ(Promote(DType::kUInt32, DType::kInt32), DType::kInt64);
  EXPECT_EQ(Promote(DType::kBool, DType::kInt8), DType::kInt8);
  EXPECT_EQ(Promote(DType::kFloat32, DType::kFloat64), DType::kFloat64);
  EXPECT_EQ(Promote(DType::kUInt8, DType::kFloat16), DType::kFloat16);
}

TEST(DType, SafeCasts) {
  EXPECT_TRUE(CanCastSafely(DType::kFloat32, DType::kFloat64));
  EXPECT_FALSE(CanCastSafely(DType::kFloat64, DType::kFloat32));
  EXPECT_FALSE(CanCastSafely(DType::kInt64, DType::kFloat32));
  EXPECT_TRUE(CanCastSafely(DType::kInt16, DType::kFloat32));
}

TEST(DType, TheanoUpgradeToFloat) {
  EXPECT_EQ(UpgradeToFloat(DType::kInt8), DType::kFloat32);
  EXPECT_EQ(UpgradeToFloat(DType::kInt32), DType::kFloat64);
  EXPECT_EQ(UpgradeToFloat(DType::kFloat32), DType::kFloat32);
  EXPECT_EQ(SumResultType(DType::kInt8), DType::kInt64);
  EXPECT_EQ(SumResultType(DType::kUInt16), DType::kUInt64);
  EXPECT_EQ(SumResultType(DType::kFloat32), DType::kFloat32);
}

TEST(DType, Names) {
  for (int i = 1; i <= kMaxDType; ++i) {
    DType d = static_cast<DType>(i);
    EXPECT_EQ(DTypeFromName(DTypeName(d)), d);
  }
  EXPECT_FALSE(DTypeFromName("float128").has_value());
}

}  // namespace
}  // namespace tensord
