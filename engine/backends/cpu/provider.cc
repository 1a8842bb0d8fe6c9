#include "engine/backends/cpu/provider.h"

#include "engine/backends/cpu/elementwise.h"
#include "engine/backends/cpu/kernels/register.h"

namespace tensord::cpu {

const backends::KernelTable& Kernels() {
  static const backends::KernelTable* table = [] {
    auto* k = new backends::KernelTable;
    RegisterAdvancedSubtensorKernels(*k);
    RegisterArgReductionKernels(*k);
    RegisterComparisonKernels(*k);
    RegisterCompositeKernels(*k);
    RegisterConvKernels(*k);
    RegisterCreationKernels(*k);
    RegisterGemmKernels(*k);
    RegisterGradOpKernels(*k);
    RegisterIfElseKernels(*k);
    RegisterJoinSortKernels(*k);
    RegisterLinalgKernels(*k);
    RegisterPoolKernels(*k);
    RegisterNeighboursKernels(*k);
    RegisterBatchNormKernels(*k);
    RegisterRandomDiscreteKernels(*k);
    RegisterRandomKernels(*k);
    RegisterReductionKernels(*k);
    RegisterReductionStatsKernels(*k);
    RegisterScanOpKernels(*k);
    RegisterShapeKernels(*k);
    RegisterSparseKernels(*k);
    RegisterSparseStructureKernels(*k);
    RegisterSubtensorKernels(*k);
    RegisterTileRepeatKernels(*k);
    RegisterTransferKernels(*k);
    return k;
  }();
  return *table;
}

bool Supports(const ops::OpDef& def) {
  return Kernels().Find(def.name) != nullptr || def.scalar.has_value();
}

absl::StatusOr<std::unique_ptr<backends::Kernel>> MakeNodeKernel(const ir::Apply& node) {
  if (node.def == nullptr) return Internal("node '", node.op, "' is not resolved");
  if (const backends::MakeKernelFn* make = Kernels().Find(node.op)) return (*make)(node);
  if (node.def->scalar) return MakeElementwiseKernel(node);
  return Unimplemented("op '", node.op, "' has no CPU kernel");
}

}  // namespace tensord::cpu
