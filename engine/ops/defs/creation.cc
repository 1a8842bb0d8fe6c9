// Creation and symbolic-shape ops: shape, shape_i, make_vector, arange, eye. The rest of the
// family (tile, repeat, flatten, join, sort, argsort) lives in tile_repeat.cc and join_sort.cc.
#include "engine/ops/defs/creation.h"

#include <cmath>
#include <cstring>

#include "engine/backends/cpu/broadcast.h"
#include "engine/backends/cpu/dispatch.h"
#include "engine/backends/cpu/elementwise.h"
#include "engine/ops/defs/int_args.h"
#include "engine/ops/register_all.h"

namespace tensord::ops {
namespace creation {

using runtime::Shape;
using runtime::Tensor;

absl::StatusOr<DType> DTypeAttr(const ir::Apply& node) {
  TENSORD_ASSIGN_OR_RETURN(DType d, ir::GetAttr<DType>(node, "dtype"));
  if (!IsValidDType(static_cast<int>(d)) || d == DType::kInvalid) {
    return InvalidArgument("invalid dtype ", static_cast<int>(d));
  }
  if (d == DType::kFloat16) return Unimplemented("float16 is not supported yet");
  return d;
}

namespace {

// ---- shape(x) and shape_i(x; i) ----

class ShapeKernel final : public Kernel {
 public:
  absl::Status Run(std::span<const Tensor* const> in, std::span<Tensor* const> out) override {
    const Shape& shape = in[0]->shape();
    TENSORD_RETURN_IF_ERROR(out[0]->Reshape(DType::kInt64, {static_cast<int64_t>(shape.size())}));
    std::copy(shape.begin(), shape.end(), out[0]->data<int64_t>());
    return absl::OkStatus();
  }
};

absl::StatusOr<int64_t> ShapeIndex(const ir::Apply& node) {
  TENSORD_ASSIGN_OR_RETURN(int64_t i, ir::GetAttr<int64_t>(node, "i"));
  const int ndim = node.inputs[0]->type.ndim();
  if (i < -ndim || i >= ndim) {
    return InvalidArgument("shape_i: dimension ", i, " is out of range for an input of rank ",
                           ndim);
  }
  return i < 0 ? i + ndim : i;
}

class ShapeIKernel final : public Kernel {
 public:
  explicit ShapeIKernel(int64_t i) : i_(i) {}
  absl::Status Run(std::span<const Tensor* const> in, std::span<Tensor* const> out) override {
    TENSORD_RETURN_IF_ERROR(out[0]->Reshape(DType::kInt64, {}));
    *out[0]->data<int64_t>() = in[0]->shape()[i_];
    return absl::OkStatus();
  }

 private:
  int64_t i_;
};

// ---- make_vector(*scalars; dtype) ----

absl::StatusOr<std::vector<ir::Type>> InferMakeVector(const ir::Apply& node) {
  TENSORD_ASSIGN_OR_RETURN(DType dtype, DTypeAttr(node));
  for (size_t k = 0; k < node.inputs.size(); ++k) {
    const ir::Type& t = node.inputs[k]->type;
    if (t.ndim() != 0) {
      return InvalidArgument("make_vector: input ", k, " must be a scalar, got ",
                             ir::TypeString(t));
    }
    // As Theano's MakeVector: inputs are upcast to the dtype, never downcast.
    if (Promote(dtype, t.dtype) != dtype) {
      return InvalidArgument("make_vector: input ", k, " of dtype ", DTypeName(t.dtype),
                             " cannot be upcast to ", DTypeName(dtype));
    }
  }
  return std::vector<ir::Type>{ir::Type{dtype, {false}}};
}

class MakeVectorKernel final : public Kernel {
 public:
  explicit MakeVectorKernel(DType dtype) : dtype_(dtype) {}
  absl::Status Run(std::span<const Tensor* const> in, std::span<Tensor* const> out) override {
    const int64_t n = static_cast<int64_t>(in.size());
    TENSORD_RETURN_IF_ERROR(out[0]->Reshape(dtype_, {n}));
    const size_t size = DTypeSize(dtype_);
    char* dst = static_cast<char*>(out[0]->raw());
    for (int64_t k = 0; k < n; ++k) std::memcpy(dst + k * size, in[k]->raw(), size);
    return absl::OkStatus();
  }

 private:
  DType dtype_;
};

// ---- arange(start, stop, step; dtype) ----

absl::StatusOr<std::vector<ir::Type>> InferArange(const ir::Apply& node) {
  TENSORD_ASSIGN_OR_RETURN(DType dtype, DTypeAttr(node));
  if (dtype == DType::kBool) return InvalidArgument("arange: dtype must be numeric, got bool");
  const char* names[] = {"start", "stop", "step"};
  for (int k = 0; k < 3; ++k) {
    if (node.inputs[k]->type.ndim() != 0) {
      return InvalidArgument("arange: ", names[k], " must be a scalar, got ",
                             ir::TypeString(node.inputs[k]->type));
    }
  }
  return std::vector<ir::Type>{ir::Type{dtype, {false}}};
}

// A scalar input read both ways: integers stay exact, floats keep their fraction.
struct Number {
  bool is_int = true;
  int64_t i = 0;
  double d = 0;
};

absl::StatusOr<Number> ReadNumber(const Tensor& t) {
  Number n;
  TENSORD_RETURN_IF_ERROR(cpu::DispatchAll(t.dtype(), [&](auto tag) -> absl::Status {
    using T = typename decltype(tag)::type;
    const T v = *t.data<T>();
    n.is_int = !std::is_floating_point_v<T>;
    n.d = static_cast<double>(v);
    if constexpr (!std::is_floating_point_v<T>) n.i = static_cast<int64_t>(v);
    return absl::OkStatus();
  }));
  return n;
}

// NumPy's arange length: exact for integers, ceil((stop - start) / step) in double otherwise.
absl::StatusOr<int64_t> ArangeLength(const Number& start, const Number& stop, const Number& step) {
  if (start.is_int && stop.is_int && step.is_int) {
    if (step.i == 0) return InvalidArgument("arange: step must not be 0");
    const __int128 diff = static_cast<__int128>(stop.i) - start.i;
    __int128 q = diff / step.i;
    if (diff % step.i != 0 && ((diff < 0) == (step.i < 0))) ++q;
    return static_cast<int64_t>(q < 0 ? 0 : q);
  }
  if (step.d == 0) return InvalidArgument("arange: step must not be 0");
  const double delta = stop.d - start.d;
  const double len = delta / step.d;
  if (len == 0.0 && delta != 0.0) return std::signbit(len) ? 0 : 1;  // underflow, as NumPy
  if (std::isnan(len)) return InvalidArgument("arange: cannot compute the length (NaN)");
  const double ceil = std::ceil(len);
  if (ceil > 9.0e18) return InvalidArgument("arange: the length ", ceil, " is too large");
  return ceil < 0 ? 0 : static_cast<int64_t>(ceil);
}

class ArangeKernel final : public Kernel {
 public:
  explicit ArangeKernel(DType dtype) : dtype_(dtype) {}
  absl::Status Run(std::span<const Tensor* const> in, std::span<Tensor* const> out) override {
    TENSORD_ASSIGN_OR_RETURN(Number start, ReadNumber(*in[0]));
    TENSORD_ASSIGN_OR_RETURN(Number stop, ReadNumber(*in[1]));
    TENSORD_ASSIGN_OR_RETURN(Number step, ReadNumber(*in[2]));
    TENSORD_ASSIGN_OR_RETURN(int64_t n, ArangeLength(start, stop, step));
    TENSORD_RETURN_IF_ERROR(out[0]->Reshape(dtype_, {n}));
    return cpu::DispatchAll(dtype_, [&](auto tag) -> absl::Status {
      using T = typename decltype(tag)::type;
      T* dst = out[0]->data<T>();
      if (n == 0) return absl::OkStatus();
      // As NumPy's fill: the first two values come from start and start + step, then
      // value[i] = value[0] + i * (value[1] - value[0]) in the output dtype.
      const bool ints = start.is_int && step.is_int;
      const T v0 = ints ? static_cast<T>(start.i) : static_cast<T>(start.d);
      const T v1 = ints ? static_cast<T>(start.i + step.i) : static_cast<T>(start.d + step.d);
      if constexpr (std::is_floating_point_v<T>) {
        const T delta = v1 - v0;
        for (int64_t i = 0; i < n; ++i) dst[i] = v0 + static_cast<T>(i) * delta;
      } else {
        const int64_t delta = static_cast<int64_t>(static_cast<T>(v1 - v0));
        for (int64_t i = 0; i < n; ++i) dst[i] = static_cast<T>(v0 + i * delta);
      }
      if (n > 1) dst[1] = v1;
      return absl::OkStatus();
    });
  }

 private:
  DType dtype_;
};

// ---- eye(n, m, k; dtype) ----

absl::StatusOr<std::vector<ir::Type>> InferEye(const ir::Apply& node) {
  TENSORD_ASSIGN_OR_RETURN(DType dtype, DTypeAttr(node));
  TENSORD_RETURN_IF_ERROR(RequireInt(node.inputs[0], 0, "eye: n"));
  TENSORD_RETURN_IF_ERROR(RequireInt(node.inputs[1], 0, "eye: m"));
  TENSORD_RETURN_IF_ERROR(RequireInt(node.inputs[2], 0, "eye: k"));
  return std::vector<ir::Type>{ir::Type{dtype, {false, false}}};
}

class EyeKernel final : public Kernel {
 public:
  explicit EyeKernel(DType dtype) : dtype_(dtype) {}
  absl::Status Run(std::span<const Tensor* const> in, std::span<Tensor* const> out) override {
    TENSORD_ASSIGN_OR_RETURN(int64_t n, ReadInt(*in[0], "eye: n"));
    TENSORD_ASSIGN_OR_RETURN(int64_t m, ReadInt(*in[1], "eye: m"));
    TENSORD_ASSIGN_OR_RETURN(int64_t k, ReadInt(*in[2], "eye: k"));
    if (n < 0 || m < 0) {
      return InvalidArgument("eye: negative dimensions are not allowed (n=", n, ", m=", m, ")");
    }
    TENSORD_RETURN_IF_ERROR(out[0]->Reshape(dtype_, {n, m}));
    return cpu::DispatchAll(dtype_, [&](auto tag) -> absl::Status {
      using T = typename decltype(tag)::type;
      T* dst = out[0]->data<T>();
      std::fill(dst, dst + n * m, T(0));
      // Only rows whose diagonal element lies in [0, m): n may be huge when m is 0, and i + k
      // must not overflow for a huge k.
      if (k >= m || (k < 0 && -(k + 1) >= n - 1)) return absl::OkStatus();
      const int64_t first = k < 0 ? -k : 0, last = std::min(n, m - k);
      for (int64_t i = first; i < last; ++i) dst[i * m + i + k] = T(1);
      return absl::OkStatus();
    });
  }

 private:
  DType dtype_;
};

template <typename K>
MakeKernelFn WithDType() {
  return [](const ir::Apply& node) -> absl::StatusOr<std::unique_ptr<Kernel>> {
    TENSORD_ASSIGN_OR_RETURN(DType dtype, DTypeAttr(node));
    return std::unique_ptr<Kernel>(new K(dtype));
  };
}

void RegisterCreation(Registry& r) {
  r.Add(MakeOpDef(
      "shape", 1, 1, "shape(x) -> int64 vector (numpy.shape)",
      [](const ir::Apply&) -> absl::StatusOr<std::vector<ir::Type>> {
        return std::vector<ir::Type>{ir::Type{DType::kInt64, {false}}};
      },
      cpu::MakeKernel<ShapeKernel>(), false));
  r.Add(MakeOpDef(
      "shape_i", 1, 1, "shape_i(x; i) -> int64 scalar, Theano's Shape_i (numpy.shape(x)[i])",
      [](const ir::Apply& node) -> absl::StatusOr<std::vector<ir::Type>> {
        TENSORD_RETURN_IF_ERROR(ShapeIndex(node).status());
        return std::vector<ir::Type>{ir::Type{DType::kInt64, {}}};
      },
      [](const ir::Apply& node) -> absl::StatusOr<std::unique_ptr<Kernel>> {
        TENSORD_ASSIGN_OR_RETURN(int64_t i, ShapeIndex(node));
        return std::unique_ptr<Kernel>(new ShapeIKernel(i));
      },
      false));
  OpDef make_vector = MakeOpDef("make_vector", 0, -1,
                                "make_vector(*scalars; dtype) -> vector, Theano's MakeVector "
                                "(numpy.array([a, b, ...], dtype))",
                                InferMakeVector, WithDType<MakeVectorKernel>(), true);
  make_vector.input_dtypes = AllInputsAsOutput;
  r.Add(std::move(make_vector));
  r.Add(MakeOpDef("arange", 3, 3,
                  "arange(start, stop, step; dtype) (numpy.arange; step 0 is INVALID_ARGUMENT)",
                  InferArange, WithDType<ArangeKernel>(), true));
  r.Add(MakeOpDef("eye", 3, 3, "eye(n, m, k; dtype) (numpy.eye(n, m, k, dtype))", InferEye,
                  WithDType<EyeKernel>(), false));
}

}  // namespace
}  // namespace creation

void RegisterCreationOps(Registry& r) {
  creation::RegisterCreation(r);
  creation::RegisterTileRepeatOps(r);
  creation::RegisterJoinSortOps(r);
}

}  // namespace tensord::ops
