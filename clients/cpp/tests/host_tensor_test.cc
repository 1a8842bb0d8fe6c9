#include <gtest/gtest.h>

#include "tensord/tensor.h"

namespace tensord::client {
namespace {

TEST(HostTensor, RoundTripsThroughProto) {
  absl::StatusOr<HostTensor> t = HostTensor::FromVector<float>({1, 2, 3, 4, 5, 6}, {2, 3});
  ASSERT_TRUE(t.ok()) << t.status();
  ::tensord::v1::Tensor proto = t->ToProto();
  EXPECT_EQ(proto.dtype(), ::tensord::v1::DT_FLOAT32);
  EXPECT_EQ(proto.shape_size(), 2);
  EXPECT_EQ(proto.data().size(), 24u);

  absl::StatusOr<HostTensor> back = HostTensor::FromProto(proto);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, *t);
  EXPECT_EQ(*back->ToVector<float>(), (std::vector<float>{1, 2, 3, 4, 5, 6}));

  // The rvalue overloads move the bytes instead of copying them.
  absl::StatusOr<HostTensor> moved = HostTensor::FromProto(HostTensor(*t).ToProto());
  ASSERT_TRUE(moved.ok());
  EXPECT_EQ(*moved, *t);
}

TEST(HostTensor, TypedFactories) {
  EXPECT_EQ(HostTensor::Scalar<double>(2.5).dtype(), kFloat64);
  EXPECT_EQ(HostTensor::Scalar<double>(2.5).ndim(), 0);
  EXPECT_EQ(*HostTensor::Vector<int64_t>({1, 2, 3}).ToVector<int64_t>(),
            (std::vector<int64_t>{1, 2, 3}));
  absl::StatusOr<HostTensor> m = HostTensor::Matrix<int32_t>({{1, 2}, {3, 4}});
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->shape(), (std::vector<int64_t>{2, 2}));
  EXPECT_EQ(m->DebugString(), "[[1 2]\n [3 4]]");
  EXPECT_FALSE(HostTensor::Matrix<int32_t>({{1, 2}, {3}}).ok());

  absl::StatusOr<HostTensor> b = HostTensor::FromBools({true, false}, {2});
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->DebugString(), "[True False]");
  EXPECT_EQ(HostTensor::Vector<float>({0.5f, 1.25f}).DebugString(), "[0.5 1.25]");
}

TEST(HostTensor, RejectsInconsistentData) {
  EXPECT_FALSE(HostTensor::FromVector<float>({1, 2, 3}, {2, 2}).ok());
  EXPECT_FALSE(HostTensor::FromBytes(kInt32, {-1}, "").ok());
  EXPECT_FALSE(HostTensor::FromBytes(::tensord::v1::DT_INVALID, {}, "").ok());
  ::tensord::v1::Tensor proto;
  proto.set_dtype(::tensord::v1::DT_FLOAT64);
  proto.add_shape(3);
  proto.set_data(std::string(16, '\0'));
  EXPECT_FALSE(HostTensor::FromProto(proto).ok());
  EXPECT_FALSE(HostTensor::Vector<float>({1}).ToVector<double>().ok());
}

TEST(HostTensor, DtypeHelpers) {
  EXPECT_EQ(DTypeSize(kFloat16), 2u);
  EXPECT_EQ(DTypeName(kUInt32), "uint32");
  EXPECT_EQ(*ParseDType("int8"), kInt8);
  EXPECT_FALSE(ParseDType("float128").ok());
  EXPECT_EQ(HostTensor::Zeros(kFloat16, {2})->ToDoubles(), (std::vector<double>{0, 0}));
  absl::StatusOr<HostTensor> half = HostTensor::FromBytes(kFloat16, {}, std::string("\x00\x3c", 2));
  ASSERT_TRUE(half.ok());
  EXPECT_EQ(half->ToDoubles()[0], 1.0);
}

}  // namespace
}  // namespace tensord::client
