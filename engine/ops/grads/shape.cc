#include "engine/ops/grad_builder.h"
#include "engine/ops/register_all.h"

namespace tensord::ops {

void AttachShapeGrads(Registry& r) {}

}  // namespace tensord::ops
