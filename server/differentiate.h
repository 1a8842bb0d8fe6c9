// The Differentiate RPC's body: decodes the request's graph, runs engine/grad and encodes only
// the nodes the gradient added.
#pragma once

#include "engine/common/dtype.h"
#include "engine/common/status.h"
#include "tensord/v1/compute.pb.h"

namespace tensord::server {

// `default_float` is the dtype of integer variables' gradients when the request sets none.
absl::Status Differentiate(const v1::DifferentiateRequest& request, DType default_float,
                           v1::DifferentiateResponse* out);

}  // namespace tensord::server
