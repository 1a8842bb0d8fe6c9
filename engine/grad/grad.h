// Reverse-mode automatic differentiation over the IR, as theano.grad: walks the graph from the
// cost back to the wrt variables, calling each op's grad rule (OpDef::grad) and summing the
// contributions each variable receives. The gradient nodes are appended to the same graph.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "engine/common/status.h"
#include "engine/ir/graph.h"

namespace tensord::grad {

// theano.grad's disconnected_inputs: what to do with a wrt the cost does not depend on.
enum class OnDisconnected { kRaise, kWarn, kIgnore };
// theano.grad's return_disconnected: what a disconnected wrt's gradient is.
enum class ReturnDisconnected { kZero, kNone, kDisconnected };

struct GradRequest {
  // A 0-d variable; may be null when known_grads seeds the backward pass instead.
  ir::Variable* cost = nullptr;
  std::vector<ir::Variable*> wrt;
  // Treated as constants: no gradient flows through them to their inputs.
  std::vector<ir::Variable*> consider_constant;
  // (variable, its gradient): gradients the caller already knows (chain rule across graphs).
  std::vector<std::pair<ir::Variable*, ir::Variable*>> known_grads;
  OnDisconnected disconnected_inputs = OnDisconnected::kRaise;
  ReturnDisconnected return_disconnected = ReturnDisconnected::kZero;
  // The dtype of gradients of integer and boolean variables (Theano's floatX).
  DType float_dtype = DType::kFloat64;
};

struct GradResult {
  // One per wrt, with its type's dtype (floats) and broadcastable pattern; null for a
  // disconnected wrt unless return_disconnected is kZero.
  std::vector<ir::Variable*> gradients;
  // Indices into wrt of the variables the cost does not depend on.
  std::vector<int> disconnected;
  // Human-readable warnings (disconnected_inputs = kWarn).
  std::vector<std::string> warnings;
};

// `label(v)` names a variable in error messages (the wire id and name, for a server).
absl::StatusOr<GradResult> Grad(ir::Graph& graph, const GradRequest& request,
                                const std::function<std::string(const ir::Variable*)>& label);

}  // namespace tensord::grad
