// Cumulative scans: Theano's CumOp, one op with attr mode = "add" (cumsum) or "mul" (cumprod),
// and attr axis (absent: over the flattened input, giving a vector, as numpy.cumsum).
// Small ints accumulate in 64 bits, as NumPy (Theano's CumOp kept the input dtype).
#include <string>

#include "engine/backends/cpu/broadcast.h"
#include "engine/backends/cpu/dispatch.h"
#include "engine/ops/defs/reduce_util.h"
#include "engine/ops/defs/type_rules.h"

namespace tensord::ops {
namespace {

struct ScanAttrs {
  bool multiply = false;
  std::optional<int64_t> axis;  // normalized; nullopt: flattened
};

absl::StatusOr<ScanAttrs> ParseScanAttrs(const ir::Apply& node) {
  ScanAttrs a;
  std::string mode = "add";
  if (node.attrs.count("mode")) {
    TENSORD_ASSIGN_OR_RETURN(mode, ir::GetAttr<std::string>(node, "mode"));
  }
  if (mode != "add" && mode != "mul") {
    return InvalidArgument("cumop: mode must be 'add' or 'mul', got '", mode, "'");
  }
  a.multiply = mode == "mul";
  if (node.attrs.count("axis")) {
    TENSORD_ASSIGN_OR_RETURN(auto axes, ir::GetIntsAttr(node, "axis"));
    if (axes.size() != 1) return InvalidArgument("cumop: axis must be a single int or absent");
    TENSORD_ASSIGN_OR_RETURN(axes, NormalizeAxes(node, axes, node.inputs[0]->type.ndim()));
    a.axis = axes[0];
  }
  return a;
}

absl::StatusOr<std::vector<ir::Type>> InferScan(const ir::Apply& node) {
  TENSORD_RETURN_IF_ERROR(CheckReducibleDType(node));
  TENSORD_ASSIGN_OR_RETURN(ScanAttrs a, ParseScanAttrs(node));
  const ir::Type& in = node.inputs[0]->type;
  ir::Type out{SumResultType(in.dtype), in.broadcastable};
  if (!a.axis) out.broadcastable = {false};
  return std::vector<ir::Type>{out};
}

class ScanKernel final : public Kernel {
 public:
  explicit ScanKernel(ScanAttrs attrs) : attrs_(attrs) {}

  absl::Status Run(std::span<const runtime::Tensor* const> in,
                   std::span<runtime::Tensor* const> out) override {
    const runtime::Tensor& x = *in[0];
    runtime::Shape shape = x.shape();
    int64_t outer = 1, len = x.num_elements(), inner = 1;
    if (attrs_.axis) {
      const int64_t k = *attrs_.axis;
      len = shape[k];
      for (int64_t d = 0; d < k; ++d) outer *= shape[d];
      for (int64_t d = k + 1; d < x.ndim(); ++d) inner *= shape[d];
    } else {
      shape = {x.num_elements()};
    }
    TENSORD_RETURN_IF_ERROR(out[0]->Reshape(x.dtype(), shape));
    // Empty: the outer and scanned lengths may still be huge (the loops below would spin).
    if (x.num_elements() == 0) return absl::OkStatus();
    return cpu::DispatchAll(x.dtype(), [&](auto tag) -> absl::Status {
      using T = typename decltype(tag)::type;
      T* dst = out[0]->data<T>();
      // Copy into C order, then scan in place: contiguous rows stay cache-friendly for any axis.
      cpu::StridedCopy(x.data<T>(), x.strides(), x.shape(), dst);
      if constexpr (std::is_same_v<T, bool>) {
        return Internal("cumop: bool input reached the kernel uncast");
      } else {
        for (int64_t o = 0; o < outer; ++o) {
          T* block = dst + o * len * inner;
          for (int64_t i = 1; i < len; ++i) {
            const T* prev = block + (i - 1) * inner;
            T* cur = block + i * inner;
            if (attrs_.multiply) {
              for (int64_t j = 0; j < inner; ++j) cur[j] = static_cast<T>(prev[j] * cur[j]);
            } else {
              for (int64_t j = 0; j < inner; ++j) cur[j] = static_cast<T>(prev[j] + cur[j]);
            }
          }
        }
        return absl::OkStatus();
      }
    });
  }

 private:
  ScanAttrs attrs_;
};

}  // namespace

void RegisterScans(Registry& r) {
  OpDef d;
  d.name = "cumop";
  d.doc =
      "cumop(x; axis=None|int, mode='add'|'mul') (Theano's CumOp: numpy.cumsum / numpy.cumprod; "
      "axis=None scans the flattened input; small ints accumulate in 64 bits)";
  d.infer_types = InferScan;
  d.input_dtypes = AllInputsAsOutput;  // the scan runs in the output dtype (int8 -> int64)
  d.make_cpu_kernel = [](const ir::Apply& node) -> absl::StatusOr<std::unique_ptr<Kernel>> {
    TENSORD_ASSIGN_OR_RETURN(ScanAttrs a, ParseScanAttrs(node));
    return std::unique_ptr<Kernel>(new ScanKernel(a));
  };
  r.Add(std::move(d));
}

}  // namespace tensord::ops
