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

template <typename T>
absl::StatusOr<std::vector<T>> BroadcastParam(const runtime::Tensor& param,
                                              const runtime::Shape& shape, const char* op,
                                              const char* what) {
  bool fits = param.ndim() <= static_cast<int>(shape.size());
  const size_t lead = shape.size() - std::min(shape.size(), param.shape().size());
  for (size_t d = 0; fits && d < param.shape().size(); ++d) {
    fits = param.shape()[d] == 1 || param.shape()[d] == shape[lead + d];
  }
  if (!fits) {
    return InvalidArgument(op, ": ", what, " of shape ", runtime::ShapeString(param.shape()),
                           " does not broadcast to the sample shape ", runtime::ShapeString(shape));
  }
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
