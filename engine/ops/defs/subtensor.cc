// Basic indexing: subtensor (x[i], x[a:b:c], a zero-copy strided view) and inc_subtensor
// (a new tensor with that view incremented or, with set_instead_of_inc, overwritten).
#include "engine/ops/defs/subtensor.h"

#include "engine/backends/cpu/broadcast.h"
#include "engine/ops/register_all.h"

namespace tensord::ops {
namespace {

using runtime::Tensor;
using subtensor::Entry;
using subtensor::Kind;

// The view of `x` that basic indexing selects.
absl::StatusOr<Tensor> BasicView(const Tensor& x, const std::vector<Entry>& entries,
                                 std::span<const Tensor* const> in) {
  runtime::Shape shape;
  runtime::Strides strides;
  int64_t offset = 0;
  for (int d = 0; d < x.ndim(); ++d) {
    const int64_t n = x.shape()[d], stride = x.strides()[d];
    if (d >= static_cast<int>(entries.size())) {
      shape.push_back(n);
      strides.push_back(stride);
    } else if (entries[d].kind == Kind::kInt) {
      TENSORD_ASSIGN_OR_RETURN(int64_t i, subtensor::FieldValue(entries[d].f[0], in));
      TENSORD_RETURN_IF_ERROR(subtensor::ApplyInt(i, d, n, stride, &offset));
    } else {
      TENSORD_ASSIGN_OR_RETURN(auto dim, subtensor::ApplySlice(entries[d], in, n, stride, &offset));
      shape.push_back(dim.size);
      strides.push_back(dim.stride);
    }
  }
  return x.StridedView(std::move(shape), std::move(strides), offset);
}

absl::StatusOr<std::vector<ir::Type>> InferSubtensor(const ir::Apply& node) {
  TENSORD_ASSIGN_OR_RETURN(auto entries, subtensor::ParseIndex(node, 1, false));
  return std::vector<ir::Type>{subtensor::BasicIndexType(node.inputs[0]->type, entries)};
}

class SubtensorKernel final : public Kernel {
 public:
  explicit SubtensorKernel(std::vector<Entry> entries) : entries_(std::move(entries)) {}
  absl::Status Run(std::span<const Tensor* const> in, std::span<Tensor* const> out) override {
    TENSORD_ASSIGN_OR_RETURN(*out[0], BasicView(*in[0], entries_, in));
    return absl::OkStatus();
  }

 private:
  std::vector<Entry> entries_;
};

// The value may have lower rank than the indexed subtensor (it broadcasts), never higher.
absl::Status CheckValueRank(const ir::Apply& node, const ir::Type& indexed) {
  const ir::Type& y = node.inputs[1]->type;
  if (y.ndim() > indexed.ndim()) {
    return InvalidArgument(node.op, ": cannot assign a value of rank ", y.ndim(), " (",
                           ir::TypeString(y), ") to a subtensor of rank ", indexed.ndim());
  }
  if (y.dtype == DType::kFloat16 || indexed.dtype == DType::kFloat16) {
    return Unimplemented("float16 is not supported yet");
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<ir::Type>> InferIncSubtensor(const ir::Apply& node) {
  TENSORD_ASSIGN_OR_RETURN(auto entries, subtensor::ParseIndex(node, 2, false));
  TENSORD_RETURN_IF_ERROR(
      CheckValueRank(node, subtensor::BasicIndexType(node.inputs[0]->type, entries)));
  return std::vector<ir::Type>{node.inputs[0]->type};
}

class IncSubtensorKernel final : public Kernel {
 public:
  IncSubtensorKernel(std::vector<Entry> entries, bool set)
      : entries_(std::move(entries)), set_(set) {}
  absl::Status Run(std::span<const Tensor* const> in, std::span<Tensor* const> out) override {
    // Index errors must come before the copy is written, but the view has to be of the copy:
    // resolving twice is cheap (a few integers per dim).
    TENSORD_RETURN_IF_ERROR(BasicView(*in[0], entries_, in).status());
    TENSORD_RETURN_IF_ERROR(subtensor::CopyInto(*in[0], *out[0]));
    TENSORD_ASSIGN_OR_RETURN(Tensor view, BasicView(*out[0], entries_, in));
    return subtensor::AssignInto(view, *in[1], set_);
  }

 private:
  std::vector<Entry> entries_;
  bool set_;
};

}  // namespace

void RegisterSubtensor(Registry& r) {
  OpDef d;
  d.name = "subtensor";
  d.min_inputs = 1;
  d.max_inputs = -1;
  d.doc = "subtensor(x, *scalars; idx_list): x[i, a:b:c, ...] as a view (numpy basic indexing)";
  d.infer_types = InferSubtensor;
  d.make_cpu_kernel = [](const ir::Apply& node) -> absl::StatusOr<std::unique_ptr<Kernel>> {
    TENSORD_ASSIGN_OR_RETURN(auto entries, subtensor::ParseIndex(node, 1, false));
    return std::unique_ptr<Kernel>(new SubtensorKernel(std::move(entries)));
  };
  r.Add(std::move(d));

  OpDef inc;
  inc.name = "inc_subtensor";
  inc.min_inputs = 2;
  inc.max_inputs = -1;
  inc.doc =
      "inc_subtensor(x, y, *scalars; idx_list, set_instead_of_inc): a copy of x with "
      "x[idx] += y, or = y (numpy: z = x.copy(); z[idx] += y)";
  inc.infer_types = InferIncSubtensor;
  inc.input_dtypes = subtensor::ValueAsX;
  inc.make_cpu_kernel = [](const ir::Apply& node) -> absl::StatusOr<std::unique_ptr<Kernel>> {
    TENSORD_ASSIGN_OR_RETURN(auto entries, subtensor::ParseIndex(node, 2, false));
    TENSORD_ASSIGN_OR_RETURN(bool set, subtensor::SetInsteadOfInc(node));
    return std::unique_ptr<Kernel>(new IncSubtensorKernel(std::move(entries), set));
  };
  r.Add(std::move(inc));
}

}  // namespace tensord::ops
