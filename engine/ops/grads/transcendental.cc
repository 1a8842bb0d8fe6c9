#include "engine/ops/grad_builder.h"
#include "engine/ops/register_all.h"

namespace tensord::ops {

void AttachTranscendentalGrads(Registry& r) {}

}  // namespace tensord::ops
