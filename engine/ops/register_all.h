#pragma once

#include "engine/ops/op_def.h"

namespace tensord::ops {

// One line per op family; see defs/.
void RegisterElementwise(Registry& r);
void RegisterReductions(Registry& r);
void RegisterLinalg(Registry& r);
void RegisterShapeOps(Registry& r);

inline void RegisterAll(Registry& r) {
  RegisterElementwise(r);
  RegisterReductions(r);
  RegisterLinalg(r);
  RegisterShapeOps(r);
}

}  // namespace tensord::ops
