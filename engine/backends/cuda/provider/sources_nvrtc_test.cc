// The sources of the provider's hand-written kernels compile with NVRTC (no GPU needed):
// indexing (indexing.h) for every integer dtype of index array, every dtype of value and the
// ranks a run takes, and the nonzero() of masks (nonzero_kernels.h); random streams, binomial
// draws (random_kernels.h), categorical draws (categorical_kernels.h) and sorting
// (sort_kernels.h) for every dtype they take, view writes
// (view_writes.h) for the dtype pairs they convert, arg reductions (arg_reduce.h), var and std
// (moment_kernels.h), cumsum and cumprod (cumop_kernels.h), convolution (conv_kernels.h), pooling
// (pool_kernels.h), batch normalization (batch_norm_kernels.h) and images2neibs and its adjoint
// for every dtype they take (neighbour_kernels.h). What they compute is checked on
// the emulator and on a GPU (provider_device_test.cc and the
// *_device_test.cc files beside it).
#include <gtest/gtest.h>

#include <array>

#include "engine/backends/cuda/nvrtc.h"
#include "engine/backends/cuda/provider/arg_reduce.h"
#include "engine/backends/cuda/provider/batch_norm_kernels.h"
#include "engine/backends/cuda/provider/categorical_kernels.h"
#include "engine/backends/cuda/provider/conv_kernels.h"
#include "engine/backends/cuda/provider/cumop_kernels.h"
#include "engine/backends/cuda/provider/indexing.h"
#include "engine/backends/cuda/provider/moment_kernels.h"
#include "engine/backends/cuda/provider/neighbour_kernels.h"
#include "engine/backends/cuda/provider/nonzero_kernels.h"
#include "engine/backends/cuda/provider/pool_kernels.h"
#include "engine/backends/cuda/provider/random_kernels.h"
#include "engine/backends/cuda/provider/sort_kernels.h"
#include "engine/backends/cuda/provider/view_writes.h"

namespace tensord::cuda {
namespace {

TEST(IndexingSource, GatherAndScatterCompileWithNvrtc) {
  const std::vector<DType> integers = {DType::kInt8,   DType::kInt16, DType::kInt32,
                                       DType::kInt64,  DType::kUInt8, DType::kUInt16,
                                       DType::kUInt32, DType::kUInt64};
  std::vector<DType> values = integers;
  values.insert(values.end(), {DType::kBool, DType::kFloat32, DType::kFloat64});
  auto compiles = [](DType dtype, DType index, DType y, int arrays, int index_rank,
                     int trailing_rank) {
    const std::vector<DType> types(arrays, index);
    auto gather = GatherSource(dtype, types, index_rank, trailing_rank, "g");
    ASSERT_TRUE(gather.ok()) << gather.status();
    NvrtcResult compiled = CompileToPtx(*gather, "g.cu", "compute_80");
    ASSERT_TRUE(compiled.ok) << compiled.log << "\n" << *gather;
    for (bool set : {false, true}) {
      auto scatter = ScatterSource(dtype, types, y, index_rank, trailing_rank, set, "s");
      ASSERT_TRUE(scatter.ok()) << scatter.status();
      compiled = CompileToPtx(*scatter, "s.cu", "compute_80");
      ASSERT_TRUE(compiled.ok) << compiled.log << "\n" << *scatter;
    }
  };
  // Every index dtype over the ranks a run takes; every value dtype (an integer's or a bool's
  // increment is its own atomic add), its y of its own dtype and of int32.
  for (DType index : integers) {
    for (auto [arrays, index_rank, trailing_rank] :
         std::vector<std::array<int, 3>>{{1, 1, 0}, {2, 2, 1}, {3, 0, 2}}) {
      compiles(DType::kFloat64, index, DType::kFloat32, arrays, index_rank, trailing_rank);
    }
  }
  for (DType dtype : values) {
    for (DType y : {dtype, DType::kInt32}) compiles(dtype, DType::kInt64, y, 1, 1, 1);
  }
  // What no kernel moves: bool or float index arrays, float16 values, too many arrays.
  EXPECT_FALSE(GatherSource(DType::kFloat32, {DType::kBool}, 1, 0, "g").ok());
  EXPECT_FALSE(GatherSource(DType::kFloat32, {DType::kFloat32}, 1, 0, "g").ok());
  EXPECT_FALSE(GatherSource(DType::kFloat16, {DType::kInt32}, 1, 0, "g").ok());
  EXPECT_FALSE(GatherSource(DType::kFloat32, std::vector<DType>(9, DType::kInt32), 1, 0, "g").ok());
}

TEST(IndexingSource, NonzeroCompilesWithNvrtc) {
  for (int rank = 1; rank <= 8; ++rank) {
    auto source = NonzeroSource(rank, "nz");
    ASSERT_TRUE(source.ok()) << source.status();
    NvrtcResult compiled = CompileToPtx(*source, "nz.cu", "compute_80");
    ASSERT_TRUE(compiled.ok) << compiled.log << "\n" << *source;
  }
  EXPECT_FALSE(NonzeroSource(0, "nz").ok());
  EXPECT_FALSE(NonzeroSource(9, "nz").ok());
}

TEST(SamplingAndSortSources, CompileWithNvrtc) {
  for (DType dtype : {DType::kFloat32, DType::kFloat64}) {
    const std::string source = SamplingSource(dtype);
    NvrtcResult compiled = CompileToPtx(source, "random.cu", "compute_80");
    ASSERT_TRUE(compiled.ok) << compiled.log << "\n" << source;
  }
  for (DType dtype : {DType::kBool, DType::kInt8, DType::kInt64, DType::kUInt32, DType::kFloat32,
                      DType::kFloat64}) {
    const std::string source = BinomialSource(dtype);
    NvrtcResult compiled = CompileToPtx(source, "binomial.cu", "compute_80");
    ASSERT_TRUE(compiled.ok) << compiled.log << "\n" << source;
  }
  for (DType dtype :
       {DType::kBool, DType::kInt8, DType::kInt16, DType::kInt32, DType::kInt64, DType::kUInt8,
        DType::kUInt16, DType::kUInt32, DType::kUInt64, DType::kFloat32, DType::kFloat64}) {
    for (bool indices : {false, true}) {
      auto source = SortSource(dtype, indices);
      ASSERT_TRUE(source.ok()) << source.status();
      NvrtcResult compiled = CompileToPtx(*source, "sort.cu", "compute_80");
      ASSERT_TRUE(compiled.ok) << compiled.log << "\n" << *source;
    }
  }
  EXPECT_FALSE(SortSource(DType::kFloat16, false).ok());
  // Categorical draws into every sample dtype (a population of its own dtype), and from a
  // population of another.
  for (DType dtype :
       {DType::kBool, DType::kInt8, DType::kInt16, DType::kInt32, DType::kInt64, DType::kUInt8,
        DType::kUInt16, DType::kUInt32, DType::kUInt64, DType::kFloat32, DType::kFloat64}) {
    const std::string source = CategoricalSource(dtype, dtype);
    NvrtcResult compiled = CompileToPtx(source, "categorical.cu", "compute_80");
    ASSERT_TRUE(compiled.ok) << compiled.log << "\n" << source;
  }
  const std::string mixed = CategoricalSource(DType::kFloat64, DType::kInt16);
  NvrtcResult compiled = CompileToPtx(mixed, "categorical.cu", "compute_80");
  ASSERT_TRUE(compiled.ok) << compiled.log << "\n" << mixed;
}

TEST(ViewWriteSources, CompileWithNvrtc) {
  const std::vector<DType> dtypes = {DType::kBool,    DType::kInt8,   DType::kInt16,
                                     DType::kInt32,   DType::kInt64,  DType::kUInt8,
                                     DType::kUInt16,  DType::kUInt32, DType::kUInt64,
                                     DType::kFloat32, DType::kFloat64};
  // Every dtype into itself, added and set; float32 and float64 from every dtype (a join's
  // conversions, an increment's y).
  std::vector<std::array<DType, 2>> pairs;
  for (DType d : dtypes) {
    pairs.push_back({d, d});
    pairs.push_back({DType::kFloat32, d});
    pairs.push_back({DType::kFloat64, d});
  }
  for (auto [to, from] : pairs) {
    for (bool add : {false, true}) {
      auto source = StridedWriteSource(to, from, add);
      ASSERT_TRUE(source.ok()) << source.status();
      NvrtcResult compiled = CompileToPtx(*source, "write.cu", "compute_80");
      ASSERT_TRUE(compiled.ok) << compiled.log << "\n" << *source;
    }
  }
  EXPECT_FALSE(StridedWriteSource(DType::kFloat16, DType::kFloat32, false).ok());
}

TEST(ArgReduceSources, CompileWithNvrtc) {
  for (DType dtype : {DType::kBool, DType::kInt8, DType::kInt32, DType::kInt64, DType::kUInt64,
                      DType::kFloat32, DType::kFloat64}) {
    for (bool is_max : {false, true}) {
      for (bool with_value : {false, true}) {
        auto source = ArgReduceSource(dtype, is_max, with_value);
        ASSERT_TRUE(source.ok()) << source.status();
        NvrtcResult compiled = CompileToPtx(*source, "arg.cu", "compute_80");
        ASSERT_TRUE(compiled.ok) << compiled.log << "\n" << *source;
      }
    }
  }
}

TEST(LayerSources, CompileWithNvrtc) {
  for (DType dtype : {DType::kFloat32, DType::kFloat64}) {
    for (auto source : {ConvSource(dtype), PoolSource(dtype), BatchNormSource(dtype),
                        CumopSource(dtype, dtype)}) {
      ASSERT_TRUE(source.ok()) << source.status();
      NvrtcResult compiled = CompileToPtx(*source, "layer.cu", "compute_80");
      ASSERT_TRUE(compiled.ok) << compiled.log << "\n" << *source;
    }
  }
  for (auto [dtype, in] : {std::pair{DType::kInt64, DType::kInt8},
                           {DType::kInt64, DType::kBool},
                           {DType::kUInt64, DType::kUInt16},
                           {DType::kInt32, DType::kInt32},
                           {DType::kFloat64, DType::kFloat32}}) {
    auto source = CumopSource(dtype, in);
    ASSERT_TRUE(source.ok()) << source.status();
    NvrtcResult compiled = CompileToPtx(*source, "cumop.cu", "compute_80");
    ASSERT_TRUE(compiled.ok) << compiled.log << "\n" << *source;
  }
  EXPECT_FALSE(CumopSource(DType::kBool, DType::kBool).ok());
  EXPECT_FALSE(CumopSource(DType::kInt64, DType::kFloat32).ok());  // a GPU would saturate
  EXPECT_FALSE(ConvSource(DType::kInt32).ok());
  EXPECT_FALSE(PoolSource(DType::kFloat16).ok());
  EXPECT_FALSE(BatchNormSource(DType::kInt64).ok());
  for (DType dtype :
       {DType::kBool, DType::kInt32, DType::kUInt64, DType::kFloat32, DType::kFloat64}) {
    auto source = MomentSource(dtype);
    ASSERT_TRUE(source.ok()) << source.status();
    NvrtcResult compiled = CompileToPtx(*source, "moment.cu", "compute_80");
    ASSERT_TRUE(compiled.ok) << compiled.log << "\n" << *source;
  }
  for (DType dtype : {DType::kBool, DType::kInt8, DType::kUInt16, DType::kInt32, DType::kInt64,
                      DType::kUInt64, DType::kFloat32, DType::kFloat64}) {
    auto source = NeibsSource(dtype);
    ASSERT_TRUE(source.ok()) << source.status();
    NvrtcResult compiled = CompileToPtx(*source, "neibs.cu", "compute_80");
    ASSERT_TRUE(compiled.ok) << compiled.log << "\n" << *source;
  }
  EXPECT_FALSE(NeibsSource(DType::kFloat16).ok());
}

}  // namespace
}  // namespace tensord::cuda
