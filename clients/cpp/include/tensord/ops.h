// Typed helpers for the ops the server implements (wire names in comments). Each infers its output
// type as Theano does; elementwise ops first pad lower-rank inputs with a `dimshuffle` that adds
// leading broadcastable dimensions, so every elementwise apply has inputs of equal rank.
//
// The simple elementwise helpers are generated at build time from the server's op schema
// (proto/tensord/v1/op_schema.json) into tensord/elementwise_ops.h, included here, and type their
// outputs by the schema's rules, so they cannot drift from the server's. Hand-written: the ops
// whose typing is code (fill, cast, isclose, dot, reductions, shape, indexing, scan ...) and
// conveniences over the generated ones (operators, number operands, Round).
//
// The op library is split by family; including this header gives all of them:
//   ops_math.h    elementwise math, comparisons (Gt, Lt, Eq ... as functions), logic, Switch,
//                 IfElse, and the operators % & | ^ ~
//   ops_reduce.h  Prod, Min, All, Any, Argmax, MaxAndArgmax, Mean, Variance, Std, CumSum ...
//   ops_shape.h   Shape, Arange, Eye, Tile, Repeat, Flatten, Join/Concatenate, Stack, Sort ...
//   ops_linalg.h  TensorDot, BatchedDot, BatchedTensorDot, Outer
//   ops_nnet.h    Conv2d, Conv3d, ConvGradInputs, ConvGradWeights, Pool
//   ops_index.h   indexing: GetItem with an index spec, Subtensor, AdvancedSubtensor(1),
//                 SetSubtensor, IncSubtensor, Take
//
// Every helper returns an invalid Var and records the error on the builder (sticky) when its
// inputs are invalid or their types do not fit the op.
#ifndef TENSORD_CLIENT_OPS_H_
#define TENSORD_CLIENT_OPS_H_

#include <cstdint>
#include <string>
#include <type_traits>
#include <vector>

#include "tensord/elementwise_ops.h"  // generated: Add, Mul, Sub, TrueDiv, Neg, Exp, Sin, Gt ...
#include "tensord/graph.h"

namespace tensord::client {

// Any elementwise op the server's op schema types (OpSignature.typing) by its wire name: lower
// ranks are padded with leading broadcastable dims, the output is broadcastable where every
// input is, and its dtype follows the schema's rule for the op. The generated helpers of
// elementwise_ops.h (Add, Sub, Sin, Gt, IntDiv, Switch ...) are this with a fixed name; a
// variadic op given one input returns it (Add({x}) is x).
Var Elementwise(const std::string& op, std::vector<Var> inputs);

// Theano's fill/second: `value` (its dtype) broadcast to `model`'s shape.
Var Fill(Var model, Var value);  // fill

// numpy.dot for any ranks: sums a's last axis with b's second-to-last (its only one for a
// vector); a 0-d operand multiplies. The result has a's free dims, then b's.
Var Dot(Var a, Var b);  // dot

// Reductions. Empty `axes` means all axes (Theano's axis=None); negative axes count from the
// end. Sum widens small integers (int8..int32 -> int64, uint -> uint64) unless `dtype` is given.
Var Sum(Var x, const std::vector<int64_t>& axes = {},
        DType dtype = ::tensord::v1::DT_INVALID);       // sum
Var Max(Var x, const std::vector<int64_t>& axes = {});  // max

// Shape. Reshape takes at most one -1; dimensions of length 1 become broadcastable.
Var Reshape(Var x, const std::vector<int64_t>& shape);  // reshape
// Theano's dimshuffle with -1 for 'x'; only broadcastable dimensions may be dropped.
Var Dimshuffle(Var x, const std::vector<int64_t>& new_order);  // dimshuffle
Var Transpose(Var x);  // dimshuffle with the axes reversed; vectors and scalars come back as is
Var Cast(Var x, DType dtype);  // cast; a no-op cast returns x
// An array of `value` (rank <= dims) with the given shape; constant dims of 1 are broadcastable.
Var Alloc(Var value, const std::vector<Var>& dims);  // alloc
Var Alloc(Var value, const std::vector<int64_t>& dims);

inline Var operator+(Var a, Var b) { return Add({a, b}); }
inline Var operator-(Var a, Var b) { return Sub(a, b); }
inline Var operator*(Var a, Var b) { return Mul({a, b}); }
inline Var operator/(Var a, Var b) { return TrueDiv(a, b); }
inline Var operator-(Var x) { return Neg(x); }

namespace internal {
// A C++ number as a literal of `like`'s builder.
template <typename T>
Var Lift(Var like, T value) {
  return like.builder() ? like.builder()->Literal(value) : Var();
}
}  // namespace internal

// Numbers mix with Vars as Python numbers do in Theano: `0.1 * w` makes a float_x literal.
template <Arithmetic T>
Var operator+(Var a, T b) {
  return a + internal::Lift(a, b);
}
template <Arithmetic T>
Var operator+(T a, Var b) {
  return internal::Lift(b, a) + b;
}
template <Arithmetic T>
Var operator-(Var a, T b) {
  return a - internal::Lift(a, b);
}
template <Arithmetic T>
Var operator-(T a, Var b) {
  return internal::Lift(b, a) - b;
}
template <Arithmetic T>
Var operator*(Var a, T b) {
  return a * internal::Lift(a, b);
}
template <Arithmetic T>
Var operator*(T a, Var b) {
  return internal::Lift(b, a) * b;
}
template <Arithmetic T>
Var operator/(Var a, T b) {
  return a / internal::Lift(a, b);
}
template <Arithmetic T>
Var operator/(T a, Var b) {
  return internal::Lift(b, a) / b;
}
template <Arithmetic T>
Var Pow(Var a, T b) {
  return Pow(a, internal::Lift(a, b));
}

}  // namespace tensord::client

#include "tensord/ops_index.h"
#include "tensord/ops_linalg.h"
#include "tensord/ops_math.h"
#include "tensord/ops_nnet.h"
#include "tensord/ops_reduce.h"
#include "tensord/ops_scan.h"
#include "tensord/ops_shape.h"

#endif  // TENSORD_CLIENT_OPS_H_
