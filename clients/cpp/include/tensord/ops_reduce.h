// Reductions and scans with Theano's names (T.prod, T.min, T.all, T.argmax, T.mean, T.var ...).
// As Sum/Max in ops.h: empty `axes` reduces every axis (Theano's axis=None), negative axes count
// from the end, and the reduced dims disappear from the output. Theano's keepdims=True is
// KeepDims(reduced, x, axes).
#ifndef TENSORD_CLIENT_OPS_REDUCE_H_
#define TENSORD_CLIENT_OPS_REDUCE_H_

#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include "tensord/graph.h"
#include "tensord/ops.h"

namespace tensord::client {

// prod: small ints widen to int64/uint64 unless `dtype` is given (as Sum).
Var Prod(Var x, const std::vector<int64_t>& axes = {}, DType dtype = ::tensord::v1::DT_INVALID);
Var Min(Var x, const std::vector<int64_t>& axes = {});  // min: keeps x's dtype
Var All(Var x, const std::vector<int64_t>& axes = {});  // all: bool
Var Any(Var x, const std::vector<int64_t>& axes = {});  // any: bool
// argmax / argmin: int64; over several axes, the index into those axes flattened in C order.
Var Argmax(Var x, const std::vector<int64_t>& axes = {});  // argmax
Var Argmin(Var x, const std::vector<int64_t>& axes = {});  // argmin
// max_and_argmax: {max (x's dtype), argmax (int64)} from one node; {} on error.
std::pair<Var, Var> MaxAndArgmax(Var x, const std::vector<int64_t>& axes = {});
// mean, var, std: float32 stays float32, every other dtype gives float64. `Variance` is Theano's
// T.var (a function named Var would hide the Var class). ddof divides by n - ddof; `corrected`
// is Theano's option subtracting the rounding error of the mean.
Var Mean(Var x, const std::vector<int64_t>& axes = {});  // mean
Var Variance(Var x, const std::vector<int64_t>& axes = {}, int64_t ddof = 0,
             bool corrected = false);  // var
Var Std(Var x, const std::vector<int64_t>& axes = {}, int64_t ddof = 0,
        bool corrected = false);  // std
// max - min (numpy.ptp), built from Max, Min and Sub.
Var Ptp(Var x, const std::vector<int64_t>& axes = {});

// Theano's CumOp (wire `cumop`, attribute mode "add" / "mul"): along `axis`, or over the
// flattened x (a vector) when axis is nullopt. Small ints accumulate in int64/uint64.
Var CumSum(Var x, std::optional<int64_t> axis = std::nullopt);
Var CumProd(Var x, std::optional<int64_t> axis = std::nullopt);

// Puts the dims `axes` of `x` that a reduction removed back as broadcastable dims of length 1
// (Theano's keepdims=True); empty `axes` means all.
Var KeepDims(Var reduced, Var x, const std::vector<int64_t>& axes = {});

}  // namespace tensord::client

#endif  // TENSORD_CLIENT_OPS_REDUCE_H_
