// The CPU provider's kernel families, one file each (named after the op family in
// engine/ops/defs/ they run), and what their kernels share.
#pragma once

#include "engine/backends/cpu/broadcast.h"
#include "engine/backends/kernel.h"
#include "engine/common/dtype_dispatch.h"
#include "engine/ops/op_def.h"

namespace tensord::cpu {

using backends::Kernel;
using backends::MakeKernelFn;
using runtime::Tensor;

void RegisterComparisonKernels(backends::KernelTable& k);
void RegisterCompositeKernels(backends::KernelTable& k);
void RegisterConvKernels(backends::KernelTable& k);
void RegisterCreationKernels(backends::KernelTable& k);
void RegisterGemmKernels(backends::KernelTable& k);
void RegisterGradOpKernels(backends::KernelTable& k);
void RegisterIfElseKernels(backends::KernelTable& k);
void RegisterJoinSortKernels(backends::KernelTable& k);
void RegisterLinalgKernels(backends::KernelTable& k);
void RegisterPoolKernels(backends::KernelTable& k);
void RegisterNeighboursKernels(backends::KernelTable& k);
void RegisterBatchNormKernels(backends::KernelTable& k);
void RegisterRandomKernels(backends::KernelTable& k);
void RegisterRandomDiscreteKernels(backends::KernelTable& k);
void RegisterReductionKernels(backends::KernelTable& k);
void RegisterArgReductionKernels(backends::KernelTable& k);
void RegisterReductionStatsKernels(backends::KernelTable& k);
void RegisterScanOpKernels(backends::KernelTable& k);  // cumsum / cumprod (defs/scans.cc)
void RegisterShapeKernels(backends::KernelTable& k);
void RegisterSparseKernels(backends::KernelTable& k);           // products, dense maps
void RegisterSparseStructureKernels(backends::KernelTable& k);  // patterns (sparse_structure.cc)
void RegisterSubtensorKernels(backends::KernelTable& k);
void RegisterAdvancedSubtensorKernels(backends::KernelTable& k);
void RegisterTileRepeatKernels(backends::KernelTable& k);
void RegisterTransferKernels(backends::KernelTable& k);

}  // namespace tensord::cpu
