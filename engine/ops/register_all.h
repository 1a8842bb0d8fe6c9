#pragma once

#include "engine/ops/op_def.h"

namespace tensord::ops {

// One line per op family; see defs/.
void RegisterElementwise(Registry& r);
void RegisterElementwiseMath(Registry& r);
void RegisterTranscendental(Registry& r);
void RegisterComparisons(Registry& r);
void RegisterReductions(Registry& r);
void RegisterLinalg(Registry& r);
void RegisterSubtensor(Registry& r);
void RegisterAdvancedSubtensor(Registry& r);
void RegisterIfElse(Registry& r);
void RegisterShapeOps(Registry& r);
void RegisterCreationOps(Registry& r);

inline void RegisterAll(Registry& r) {
  RegisterElementwise(r);
  RegisterElementwiseMath(r);
  RegisterTranscendental(r);
  RegisterComparisons(r);
  RegisterReductions(r);
  RegisterLinalg(r);
  RegisterSubtensor(r);
  RegisterAdvancedSubtensor(r);
  RegisterIfElse(r);
  RegisterShapeOps(r);
  RegisterCreationOps(r);
}

}  // namespace tensord::ops
