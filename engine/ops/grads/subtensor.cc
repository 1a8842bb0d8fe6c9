#include "engine/ops/grad_builder.h"
#include "engine/ops/register_all.h"

namespace tensord::ops {

void AttachSubtensorGrads(Registry& r) {}

}  // namespace tensord::ops
