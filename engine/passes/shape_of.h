// Shapes from the ops' shape rules (Theano's ShapeFeature with local_shape_to_shape_i):
// shape(v) and shape_i(v; i) of a value whose op declares a shape rule (OpDef::infer_shape)
// become expressions of its inputs' shapes, recursively, and the shape of a broadcastable dim
// becomes 1. A value needed only for its shape (zeros_like(f(x)), the shape a gradient is
// reshaped back to) then has no reader left and the dead-code pass drops its computation.
#pragma once

#include <memory>

#include "engine/passes/pass.h"

namespace tensord::passes {

std::unique_ptr<Pass> MakeShapeOfPass();

}  // namespace tensord::passes
