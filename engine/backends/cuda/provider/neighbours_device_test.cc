// images2neibs and neibs2images on a device (device_testing.h) against the host, byte for byte:
// every mode over patches that tile, overlap, stride past each other, pad and wrap, in every
// dtype a kernel holds (overlapping sums of integers wrap as the host's), images read through a
// view, empty images; and the host's refusals in its words.
#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <vector>

#include "engine/backends/cuda/provider/device_testing.h"

namespace tensord::cuda {
namespace {

using compile::testing::Node;
using runtime::Shape;
using runtime::Tensor;
using testing::Compiled;
using testing::ExpectRefusedAsTheHost;
using testing::kOn;
using testing::To;

ir::Attrs NeibsAttrs(std::vector<int64_t> shape, std::vector<int64_t> step,
                     const std::string& mode) {
  return {{"neib_shape", std::move(shape)}, {"neib_step", std::move(step)}, {"mode", mode}};
}

// images2neibs of a 4-d x on `where` (through a view swapping its image dims when `view`), or
// neibs2images of a matrix and an image shape given as an input.
std::shared_ptr<compile::Executable> NeibsGraph(const std::string& where, const std::string& op,
                                                DType dtype, const ir::Attrs& attrs,
                                                bool view = false) {
  auto g = std::make_unique<ir::Graph>();
  const bool to_rows = op == "images2neibs";
  ir::Variable* x = g->AddInput(ir::Type::Of(dtype, to_rows ? 4 : 2), "x");
  g->inputs() = {x};
  ir::Variable* on = To(*g, x, where);
  if (view) on = Node(*g, "dimshuffle", {on}, {{"new_order", std::vector<int64_t>{0, 1, 3, 2}}});
  std::vector<ir::Variable*> operands = {on};
  if (!to_rows) {
    ir::Variable* shape = g->AddInput(ir::Type::Of(DType::kInt64, 1), "image_shape");
    g->inputs().push_back(shape);
    operands.push_back(shape);
  }
  g->outputs() = {To(*g, Node(*g, op, operands, attrs), "cpu")};
  return Compiled(std::move(g));
}

// Values in [-40, 40) (small integers wrap when patches overlap many times: int8 sums).
Tensor Values(std::mt19937& rng, DType dtype, const Shape& shape) {
  Tensor t(dtype, shape);
  std::uniform_int_distribution<int> pick(-40, 39);
  for (int64_t i = 0; i < t.num_elements(); ++i) {
    const int v = pick(rng);
    switch (dtype) {
      case DType::kFloat32:
        t.data<float>()[i] = 0.37f * static_cast<float>(v);
        break;
      case DType::kFloat64:
        t.data<double>()[i] = 0.37 * v;
        break;
      case DType::kInt8:
        t.data<int8_t>()[i] = static_cast<int8_t>(3 * v);
        break;
      case DType::kInt32:
        t.data<int32_t>()[i] = v << 24;
        break;
      case DType::kInt64:
        t.data<int64_t>()[i] = int64_t{v} << 58;
        break;
      case DType::kUInt16:
        t.data<uint16_t>()[i] = static_cast<uint16_t>(v * 1999);
        break;
      case DType::kBool:
        t.data<bool>()[i] = v % 3 == 0;
        break;
      default:
        ADD_FAILURE() << "no values for " << DTypeName(dtype);
    }
  }
  return t;
}

Tensor Ints(const Shape& values) {
  Tensor t(DType::kInt64, {static_cast<int64_t>(values.size())});
  for (size_t i = 0; i < values.size(); ++i) t.data<int64_t>()[i] = values[i];
  return t;
}

TEST(TENSORD_PROVIDER_TEST_SUITE, NeighboursMatchTheHost) {
  SKIP_WITHOUT_THE_DEVICE();
  struct Case {
    Shape image;
    std::vector<int64_t> shape, step;
    std::string mode;
  };
  const std::vector<Case> cases = {
      {{2, 3, 4, 6}, {2, 2}, {2, 2}, "valid"},           // tiles
      {{1, 2, 5, 7}, {3, 2}, {1, 1}, "valid"},           // overlapping, every position
      {{2, 1, 7, 8}, {3, 3}, {2, 3}, "ignore_borders"},  // strided, borders left out
      {{1, 2, 7, 5}, {3, 3}, {3, 2}, "half"},            // padded by half a patch
      {{1, 1, 4, 5}, {3, 2}, {1, 1}, "full"},            // every patch touching the image
      {{2, 2, 5, 7}, {3, 5}, {1, 2}, "wrap_centered"},   // wrapped across both edges
      {{1, 1, 3, 3}, {3, 3}, {1, 1}, "wrap_centered"},   // a patch the size of the image
      {{1, 3, 9, 4}, {5, 1}, {4, 1}, "wrap_centered"},   // steps past the patches
      {{0, 2, 4, 4}, {2, 2}, {2, 2}, "valid"},           // no image
      {{1, 1, 0, 4}, {2, 2}, {1, 1}, "full"},            // no rows: patches of padding
  };
  const DType dtypes[] = {DType::kFloat32, DType::kFloat64, DType::kInt8, DType::kInt32,
                          DType::kInt64,   DType::kUInt16,  DType::kBool};
  std::mt19937 rng(31);
  for (const Case& c : cases) {
    const ir::Attrs attrs = NeibsAttrs(c.shape, c.step, c.mode);
    for (DType dtype : dtypes) {
      const std::string what =
          runtime::ShapeString(c.image) + " " + c.mode + " " + DTypeName(dtype);
      const Tensor image = Values(rng, dtype, c.image);
      auto host_rows = NeibsGraph("cpu", "images2neibs", dtype, attrs);
      ASSERT_NE(host_rows, nullptr) << what;
      auto want_rows = host_rows->Run({image}, {});
      ASSERT_TRUE(want_rows.ok()) << what << ": " << want_rows.status();
      auto device_rows = NeibsGraph(kOn, "images2neibs", dtype, attrs);
      ASSERT_NE(device_rows, nullptr) << what;
      auto got_rows = device_rows->Run({image}, {});
      ASSERT_TRUE(got_rows.ok()) << what << ": " << got_rows.status();
      EXPECT_TRUE(testing::SameBytes(got_rows->outputs[0], want_rows->outputs[0])) << what;
      if (image.num_elements() == 0) {  // every patch is padding: zeros, on the host too
        const Tensor& rows = want_rows->outputs[0];
        const std::vector<char> zeros(rows.num_bytes(), 0);
        EXPECT_EQ(std::memcmp(rows.raw(), zeros.data(), zeros.size()), 0) << what;
      }

      // Back into images: patches of the host's values, summed where they overlap.
      const Tensor neibs = Values(rng, dtype, want_rows->outputs[0].shape());
      auto host_images = NeibsGraph("cpu", "neibs2images", dtype, attrs);
      auto device_images = NeibsGraph(kOn, "neibs2images", dtype, attrs);
      ASSERT_NE(host_images, nullptr) << what;
      ASSERT_NE(device_images, nullptr) << what;
      auto want = host_images->Run({neibs, Ints(c.image)}, {});
      auto got = device_images->Run({neibs, Ints(c.image)}, {});
      ASSERT_TRUE(want.ok()) << what << ": " << want.status();
      ASSERT_TRUE(got.ok()) << what << ": " << got.status();
      EXPECT_TRUE(testing::SameBytes(got->outputs[0], want->outputs[0])) << what << " back";
    }
  }
}

TEST(TENSORD_PROVIDER_TEST_SUITE, NeighboursRunOnTheDeviceAndReadViews) {
  SKIP_WITHOUT_THE_DEVICE();
  const ir::Attrs attrs = NeibsAttrs({3, 2}, {2, 1}, "ignore_borders");
  std::mt19937 rng(37);
  const Tensor image = Values(rng, DType::kFloat32, {2, 3, 5, 9});
  auto device = NeibsGraph(kOn, "images2neibs", DType::kFloat32, attrs, /*view=*/true);
  auto host = NeibsGraph("cpu", "images2neibs", DType::kFloat32, attrs, /*view=*/true);
  ASSERT_NE(device, nullptr);
  ASSERT_NE(host, nullptr);
  EXPECT_TRUE(testing::RunsOnTheDevice(*device, "images2neibs"));
  auto got = device->Run({image}, {});
  auto want = host->Run({image}, {});
  ASSERT_TRUE(got.ok()) << got.status();
  ASSERT_TRUE(want.ok()) << want.status();
  EXPECT_TRUE(testing::SameBytes(got->outputs[0], want->outputs[0]));
}

TEST(TENSORD_PROVIDER_TEST_SUITE, NeighbourErrorsAreTheHosts) {
  SKIP_WITHOUT_THE_DEVICE();
  std::mt19937 rng(41);
  // Patches that do not tile the image in mode valid; a wrapped patch larger than the image.
  for (const auto& [attrs, shape] : std::vector<std::pair<ir::Attrs, Shape>>{
           {NeibsAttrs({2, 2}, {2, 2}, "valid"), {1, 1, 5, 4}},
           {NeibsAttrs({5, 3}, {1, 1}, "wrap_centered"), {1, 1, 4, 4}},
           {NeibsAttrs({6, 2}, {1, 1}, "ignore_borders"), {1, 1, 5, 4}}}) {
    auto device = NeibsGraph(kOn, "images2neibs", DType::kFloat32, attrs);
    auto host = NeibsGraph("cpu", "images2neibs", DType::kFloat32, attrs);
    ASSERT_NE(device, nullptr);
    ASSERT_NE(host, nullptr);
    ExpectRefusedAsTheHost(*device, *host, {Values(rng, DType::kFloat32, shape)},
                           runtime::ShapeString(shape));
  }
  // neibs2images: patches of another count, an image shape of 3 values, a negative size.
  const ir::Attrs attrs = NeibsAttrs({2, 2}, {2, 2}, "valid");
  auto device = NeibsGraph(kOn, "neibs2images", DType::kFloat64, attrs);
  auto host = NeibsGraph("cpu", "neibs2images", DType::kFloat64, attrs);
  ASSERT_NE(device, nullptr);
  ASSERT_NE(host, nullptr);
  const Tensor neibs = Values(rng, DType::kFloat64, {8, 4});
  for (const Shape& image : {Shape{1, 1, 4, 6}, Shape{1, 4, 4}, Shape{1, -2, 4, 4}}) {
    ExpectRefusedAsTheHost(*device, *host, {neibs, Ints(image)}, runtime::ShapeString(image));
  }
}

}  // namespace
}  // namespace tensord::cuda
