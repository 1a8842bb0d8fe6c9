// The Differentiate RPC's body: decodes the request's graph, runs engine/grad and encodes only
// the nodes the gradient added.
#pragma once

#include "engine/common/dtype.h"
#include "engine/common/status.h"
#include "server/session.h"
#include "tensord/v1/compute.pb.h"

namespace tensord::server {

// `default_float` is the dtype of integer variables' gradients when the request sets none; the
// graph's shared variables must exist in `session` with the types the graph gives them.
absl::Status Differentiate(Session& session, const v1::DifferentiateRequest& request,
                           DType default_float, v1::DifferentiateResponse* out);

}  // namespace tensord::server
