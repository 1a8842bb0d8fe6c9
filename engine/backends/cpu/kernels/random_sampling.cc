#include "engine/backends/cpu/kernels/random_sampling.h"

#include "engine/ops/defs/int_args.h"

namespace tensord::cpu::sampling {

absl::StatusOr<runtime::Shape> ReadSize(const runtime::Tensor& size, int64_t ndim, const char* op) {
  TENSORD_ASSIGN_OR_RETURN(runtime::Shape shape, ops::ReadInts(size, "size"));
  if (static_cast<int64_t>(shape.size()) != ndim) {
    return InvalidArgument(op, ": size must have length ", ndim,
                           " (the ndim the graph was "
                           "built with), got ",
                           shape.size(), " values");
  }
  for (int64_t d : shape) {
    if (d < 0) {
      return InvalidArgument(op, ": size must not contain negative dimensions, got ",
                             runtime::ShapeString(shape));
    }
  }
  TENSORD_RETURN_IF_ERROR(runtime::CheckedNumElements(shape, 8).status());
  return shape;
}

absl::Status CheckBroadcastsTo(const runtime::Shape& param_shape, const runtime::Shape& shape,
                               const char* op, const char* what) {
  bool fits = param_shape.size() <= shape.size();
  const size_t lead = shape.size() - std::min(shape.size(), param_shape.size());
  for (size_t d = 0; fits && d < param_shape.size(); ++d) {
    fits = param_shape[d] == 1 || param_shape[d] == shape[lead + d];
  }
  if (!fits) {
    return InvalidArgument(op, ": ", what, " of shape ", runtime::ShapeString(param_shape),
                           " does not broadcast to the sample shape ", runtime::ShapeString(shape));
  }
  return absl::OkStatus();
}

template <typename T>
absl::StatusOr<std::vector<T>> BroadcastParam(const runtime::Tensor& param,
                                              const runtime::Shape& shape, const char* op,
                                              const char* what) {
  TENSORD_RETURN_IF_ERROR(CheckBroadcastsTo(param.shape(), shape, op, what));
  std::vector<T> values(runtime::NumElements(shape));
  StridedCopy(param.data<T>(), BroadcastStrides(param, shape), shape, values.data());
  return values;
}

template absl::StatusOr<std::vector<double>> BroadcastParam(const runtime::Tensor&,
                                                            const runtime::Shape&, const char*,
                                                            const char*);
template absl::StatusOr<std::vector<int64_t>> BroadcastParam(const runtime::Tensor&,
                                                             const runtime::Shape&, const char*,
                                                             const char*);

absl::Status CheckBinomialParams(int64_t n, double p, const char* op) {
  if (n < 0) return InvalidArgument(op, ": n must be >= 0, got ", n);
  if (!(p >= 0.0 && p <= 1.0)) return InvalidArgument(op, ": p must be in [0, 1], got ", p);
  return absl::OkStatus();
}

absl::StatusOr<double> CheckProbabilities(const double* p, int64_t len, double tol, const char* op,
                                          const char* what) {
  double sum = 0;
  const long long bad = mrg_step::tensord_probabilities_error(p, len, tol, &sum);
  if (bad >= 0 && bad < len) {
    return InvalidArgument(op, ": ", what, " must be probabilities in [0, 1], got ", p[bad],
                           " at position ", bad);
  }
  if (bad == len) {
    return InvalidArgument(op, ": ", what, " must sum to 1 (within ",
                           mrg_step::tensord_sum_allowance(tol, len), "), got a sum of ", sum);
  }
  return sum;
}

absl::Status CheckDrawSteps(double steps, const char* op, const char* what) {
  if (steps > kMaxDrawSteps) {
    return InvalidArgument(op, ": ", what, " needs about ", steps,
                           " draw steps, over the limit of ", kMaxDrawSteps, " per call");
  }
  return absl::OkStatus();
}

absl::StatusOr<MrgStreams> StartDrawing(const runtime::Tensor& state, runtime::Tensor& out,
                                        const char* op) {
  TENSORD_RETURN_IF_ERROR(CopyMrgState(state, out, op));
  return MrgStreams(out.data<int32_t>(), out.shape()[0]);
}

}  // namespace tensord::cpu::sampling
