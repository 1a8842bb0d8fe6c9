// The indexing kernels' sources (indexing.h) compile with NVRTC, for every integer dtype of index
// array and of value, both float dtypes and the ranks a run takes (no GPU needed); what they
// compute is checked on the emulator and on a GPU (provider_device_test.cc).
#include <gtest/gtest.h>

#include <array>

#include "engine/backends/cuda/nvrtc.h"
#include "engine/backends/cuda/provider/indexing.h"

namespace tensord::cuda {
namespace {

TEST(IndexingSource, GatherAndScatterCompileWithNvrtc) {
  const std::vector<DType> integers = {DType::kInt8,   DType::kInt16, DType::kInt32,
                                       DType::kInt64,  DType::kUInt8, DType::kUInt16,
                                       DType::kUInt32, DType::kUInt64};
  for (DType dtype : {DType::kFloat32, DType::kFloat64}) {
    for (DType index : integers) {
      for (auto [arrays, index_rank, trailing_rank] :
           std::vector<std::array<int, 3>>{{1, 1, 0}, {2, 2, 1}, {3, 0, 2}}) {
        const std::vector<DType> types(arrays, index);
        auto gather = GatherSource(dtype, types, index_rank, trailing_rank, "g");
        ASSERT_TRUE(gather.ok()) << gather.status();
        NvrtcResult compiled = CompileToPtx(*gather, "g.cu", "compute_80");
        ASSERT_TRUE(compiled.ok) << compiled.log << "\n" << *gather;
        auto scatter = ScatterAddSource(dtype, types, index, index_rank, trailing_rank, "s");
        ASSERT_TRUE(scatter.ok()) << scatter.status();
        compiled = CompileToPtx(*scatter, "s.cu", "compute_80");
        ASSERT_TRUE(compiled.ok) << compiled.log << "\n" << *scatter;
      }
    }
  }
  // What no kernel moves: bool or float index arrays, integer values, too many arrays.
  EXPECT_FALSE(GatherSource(DType::kFloat32, {DType::kBool}, 1, 0, "g").ok());
  EXPECT_FALSE(GatherSource(DType::kFloat32, {DType::kFloat32}, 1, 0, "g").ok());
  EXPECT_FALSE(GatherSource(DType::kInt32, {DType::kInt32}, 1, 0, "g").ok());
  EXPECT_FALSE(GatherSource(DType::kFloat32, std::vector<DType>(9, DType::kInt32), 1, 0, "g").ok());
}

}  // namespace
}  // namespace tensord::cuda
