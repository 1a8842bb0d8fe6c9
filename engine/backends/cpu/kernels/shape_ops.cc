// CPU kernels of the ops declared in engine/ops/defs/shape_ops.cc.
#include <algorithm>
#include <set>

#include "engine/backends/cpu/broadcast.h"
#include "engine/backends/cpu/cast.h"
#include "engine/backends/cpu/elementwise.h"
#include "engine/backends/cpu/kernels/register.h"
#include "engine/common/dtype_dispatch.h"
#include "engine/ops/defs/creation.h"
#include "engine/ops/defs/int_args.h"
#include "engine/ops/defs/type_rules.h"

namespace tensord::cpu {
namespace {

using namespace ::tensord::ops;  // NOLINT: the ops these kernels run

class ReshapeKernel final : public Kernel {
 public:
  explicit ReshapeKernel(int64_t ndim) : ndim_(ndim) {}

  absl::Status Run(std::span<const Tensor* const> in, std::span<Tensor* const> out) override {
    const Tensor& x = *in[0];
    TENSORD_ASSIGN_OR_RETURN(Shape shape, ReadInts(*in[1], "the shape"));
    // A symbolic shape can have any length at run time; the declared rank is what every
    // downstream kernel was compiled for.
    if (static_cast<int64_t>(shape.size()) != ndim_) {
      return InvalidArgument("the shape ", runtime::ShapeString(shape), " has ", shape.size(),
                             " entries but the reshape was declared with ndim=", ndim_);
    }
    int unknown = -1;
    int64_t known = 1;
    for (size_t i = 0; i < shape.size(); ++i) {
      if (shape[i] == -1 && unknown < 0) {
        unknown = static_cast<int>(i);
      } else if (shape[i] < 0 || __builtin_mul_overflow(known, shape[i], &known)) {
        return InvalidArgument("cannot reshape array of size ", x.num_elements(), " into shape ",
                               runtime::ShapeString(shape));
      }
    }
    bool fits =
        unknown < 0 ? known == x.num_elements() : known != 0 && x.num_elements() % known == 0;
    if (!fits) {
      return InvalidArgument("cannot reshape array of size ", x.num_elements(), " into shape ",
                             runtime::ShapeString(shape));
    }
    if (unknown >= 0) shape[unknown] = x.num_elements() / known;
    return ViewAsShape(x, std::move(shape), *out[0]);
  }

 private:
  const int64_t ndim_;
};

// Always a view: the output reads the input's buffer through permuted strides.
class DimshuffleKernel final : public Kernel {
 public:
  explicit DimshuffleKernel(std::vector<int64_t> order) : order_(std::move(order)) {}

  absl::Status Run(std::span<const Tensor* const> in, std::span<Tensor* const> out) override {
    const Tensor& x = *in[0];
    Shape shape;
    Strides strides;
    for (int64_t o : order_) {
      shape.push_back(o < 0 ? 1 : x.shape()[o]);
      strides.push_back(o < 0 ? 0 : x.strides()[o]);
    }
    *out[0] = x.StridedView(std::move(shape), std::move(strides), 0);
    return absl::OkStatus();
  }

 private:
  std::vector<int64_t> order_;
};

absl::Status BroadcastInto(const Tensor& value, Shape shape, Tensor& out) {
  const Shape* shapes[] = {&value.shape(), &shape};
  TENSORD_ASSIGN_OR_RETURN(Shape joint, BroadcastShapes(shapes));
  if (joint != shape) {
    return InvalidArgument("value of shape ", runtime::ShapeString(value.shape()),
                           " cannot be broadcast to shape ", runtime::ShapeString(shape));
  }
  TENSORD_RETURN_IF_ERROR(out.Reshape(value.dtype(), shape));
  StridedCopyAny(value, BroadcastStrides(value, shape), out);
  return absl::OkStatus();
}

class FillKernel final : public Kernel {
 public:
  absl::Status Run(std::span<const Tensor* const> in, std::span<Tensor* const> out) override {
    const Shape* shapes[] = {&in[0]->shape(), &in[1]->shape()};
    TENSORD_ASSIGN_OR_RETURN(Shape shape, BroadcastShapes(shapes));
    return BroadcastInto(*in[1], std::move(shape), *out[0]);
  }
};

class AllocKernel final : public Kernel {
 public:
  absl::Status Run(std::span<const Tensor* const> in, std::span<Tensor* const> out) override {
    TENSORD_ASSIGN_OR_RETURN(Shape shape, creation::AllocShape(in));
    return BroadcastInto(*in[0], std::move(shape), *out[0]);
  }
};

// x itself once its shape is the one stated.
class SpecifyShapeKernel final : public Kernel {
 public:
  absl::Status Run(std::span<const Tensor* const> in, std::span<Tensor* const> out) override {
    TENSORD_ASSIGN_OR_RETURN(std::vector<int64_t> values, ReadInts(*in[1], "the shape"));
    const Tensor& x = *in[0];
    const Shape stated(values.begin(), values.end());
    if (stated != x.shape()) {
      return InvalidArgument("specify_shape: the value has shape ", runtime::ShapeString(x.shape()),
                             " but the graph states ", runtime::ShapeString(stated));
    }
    *out[0] = x;
    return absl::OkStatus();
  }
};

}  // namespace

void RegisterShapeKernels(backends::KernelTable& k) {
  k.Add("specify_shape", backends::Make<SpecifyShapeKernel>());
  k.Add("reshape", [](const ir::Apply& node) -> absl::StatusOr<std::unique_ptr<Kernel>> {
    TENSORD_ASSIGN_OR_RETURN(int64_t ndim, ir::GetAttr<int64_t>(node, "ndim"));
    return std::unique_ptr<Kernel>(new ReshapeKernel(ndim));
  });
  k.Add("dimshuffle", [](const ir::Apply& node) -> absl::StatusOr<std::unique_ptr<Kernel>> {
    TENSORD_ASSIGN_OR_RETURN(auto order, ir::GetIntsAttr(node, "new_order"));
    return std::unique_ptr<Kernel>(new DimshuffleKernel(std::move(order)));
  });
  k.Add("cast", [](const ir::Apply& node) -> absl::StatusOr<std::unique_ptr<Kernel>> {
    TENSORD_ASSIGN_OR_RETURN(DType to, ir::GetAttr<DType>(node, "dtype"));
    return std::unique_ptr<Kernel>(new CastKernel(to));
  });
  k.Add("fill", backends::Make<FillKernel>());
  k.Add("alloc", backends::Make<AllocKernel>());
}

}  // namespace tensord::cpu
