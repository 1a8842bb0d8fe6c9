// The CUDA provider's products on cuBLAS (blas.h through a DeviceRuntime): dot, tensordot over
// one axis of each, gemm and dot_composite of matrices of one float dtype (their operands
// row-major or transposed views), dot of vectors (matrix-vector, vector-matrix, inner products),
// and batched_dot and batched_tensordot (one strided batched gemm).
#pragma once

#include <memory>
#include <optional>

#include "engine/backends/cuda/device_runtime.h"
#include "engine/backends/cuda/provider/provider.h"
#include "engine/backends/kernel.h"
#include "engine/ir/graph.h"

namespace tensord::cuda {

// A product cuBLAS computes, its operands of one float dtype with the output: of matrices (a
// tensordot over one axis of each; a gemm whose z does not broadcast the product larger), or a
// dot or tensordot contracting a block of dims at an end of each operand (a dot of an n-d value
// or of a vector, and its gradient's tensordots), one product once they are packed contiguous.
bool IsMatrixProduct(const ir::Apply& node);
// batched_dot of one float dtype: x a batch of vectors, matrices or more dims (its rows), y a
// batch of vectors, matrices or more dims (its summed dim, max(1, ndim - 2), packed first and
// its other dims after it as the columns), each of at most kMostWriteDims dims; and
// batched_tensordot over any axes (each operand permuted to (batch, free, summed) or (batch,
// summed, free) and packed contiguous).
bool IsBatchedMatrixProduct(const ir::Apply& node);

// The kernel of an IsMatrixProduct node (a dot_composite's `epilogue`: its program).
std::unique_ptr<backends::Kernel> MakeProductKernel(const ir::Apply& node,
                                                    std::shared_ptr<DeviceRuntime> device,
                                                    std::optional<DeviceElementwise> epilogue);
std::unique_ptr<backends::Kernel> MakeBatchedProductKernel(const ir::Apply& node,
                                                           std::shared_ptr<DeviceRuntime> device);

}  // namespace tensord::cuda
