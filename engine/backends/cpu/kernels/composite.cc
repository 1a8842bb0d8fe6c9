// CPU kernels of the ops declared in engine/ops/defs/composite.cc.
#include "engine/ops/defs/composite.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "engine/backends/cpu/composite_kernel.h"
#include "engine/backends/cpu/kernels/register.h"

namespace tensord::cpu {
namespace {

using namespace ::tensord::ops;  // NOLINT: the ops these kernels run

}  // namespace

void RegisterCompositeKernels(backends::KernelTable& k) {
  k.Add("composite", [](const ir::Apply& node) -> absl::StatusOr<std::unique_ptr<Kernel>> {
    TENSORD_ASSIGN_OR_RETURN(composite::Program p, composite::ParseProgram(node));
    return MakeCompositeKernel(std::move(p));
  });
}

}  // namespace tensord::cpu
