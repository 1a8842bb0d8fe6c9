// Creation, symbolic shapes, joining and sorting with Theano's names and type rules.
#ifndef TENSORD_CLIENT_OPS_SHAPE_H_
#define TENSORD_CLIENT_OPS_SHAPE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "tensord/graph.h"
#include "tensord/ops.h"

namespace tensord::client {

// transfer: x on context `target` ("cpu", "dev0", ...; "" = the server's default context,
// Theano's None). The server places every node itself; a transfer pins a value to a context
// (docs/architecture.md, "Device contexts").
Var Transfer(Var x, std::string target = "");

Var Shape(Var x);              // shape: x's shape as an int64 vector
Var ShapeI(Var x, int64_t i);  // shape_i: x.shape[i] as an int64 scalar (0 <= i < ndim)
// make_vector: 0-d `scalars` as a vector of `dtype`; each must upcast to dtype (no downcast).
Var MakeVector(const std::vector<Var>& scalars, DType dtype = kInt64);
Var MakeVector(GraphBuilder& g, const std::vector<Var>& scalars, DType dtype = kInt64);

// arange(start, stop, step) of 0-d inputs (numpy.arange). Without `dtype`, Theano's rule: the
// upcast of the three, with signed ints and bool -> int64, unsigned ints -> uint64.
Var Arange(Var start, Var stop, Var step, DType dtype = ::tensord::v1::DT_INVALID);
// Numbers become literals as Python numbers do in Theano (so integers give int64).
Var Arange(GraphBuilder& g, int64_t start, int64_t stop, int64_t step = 1,
           DType dtype = ::tensord::v1::DT_INVALID);
// eye(n, m, k): integer 0-d n, m, k; ones on diagonal k; dtype defaults to float_x.
Var Eye(Var n, Var m, Var k, DType dtype = ::tensord::v1::DT_INVALID);
Var Eye(GraphBuilder& g, int64_t n, std::optional<int64_t> m = std::nullopt, int64_t k = 0,
        DType dtype = ::tensord::v1::DT_INVALID);

// tile with constant reps (numpy.tile); reps shorter than x's rank are padded with leading 1s,
// longer ones add leading dims. A dim stays broadcastable only where it was (or is new) and
// its rep is 1.
Var Tile(Var x, std::vector<int64_t> reps);
// repeat: each element `repeats` times (an integer scalar or vector) along `axis`, or over the
// flattened x (a vector) without one (numpy.repeat). Only a constant 1 keeps the axis
// broadcastable.
Var Repeat(Var x, Var repeats, std::optional<int64_t> axis = std::nullopt);
Var Repeat(Var x, int64_t repeats, std::optional<int64_t> axis = std::nullopt);
// flatten: keeps the first ndim-1 dims and flattens the rest (1 <= ndim <= max(1, x.ndim)).
Var Flatten(Var x, int64_t ndim = 1);

// join: concatenation along `axis` of tensors of equal rank >= 1; dtypes upcast; a non-joined
// dim is broadcastable where any input's is. One tensor is returned as is.
Var Join(int64_t axis, const std::vector<Var>& tensors);
Var Concatenate(const std::vector<Var>& tensors, int64_t axis = 0);
// stack: along a new axis (a join of ShapePadAxis); all-0-d inputs give a MakeVector of their
// upcast, as Theano.
Var Stack(const std::vector<Var>& tensors, int64_t axis = 0);

// sort / argsort (int64) along `axis`, or of the flattened x without one; stable, NaN last.
Var Sort(Var x, std::optional<int64_t> axis = -1);     // sort
Var Argsort(Var x, std::optional<int64_t> axis = -1);  // argsort

// Dimshuffle shorthands, as Theano's.
Var Squeeze(Var x);  // drops every broadcastable dim
Var ShapePadLeft(Var x, int n_ones = 1);
Var ShapePadRight(Var x, int n_ones = 1);
Var ShapePadAxis(Var x, int64_t axis);  // a new broadcastable dim at `axis` (may be negative)
Var SwapAxes(Var x, int64_t axis1, int64_t axis2);

}  // namespace tensord::client

#endif  // TENSORD_CLIENT_OPS_SHAPE_H_
