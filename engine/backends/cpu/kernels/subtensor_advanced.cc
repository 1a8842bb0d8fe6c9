// CPU kernels of the ops declared in engine/ops/defs/subtensor_advanced.cc.

#include "engine/backends/cpu/broadcast.h"
#include "engine/backends/cpu/cast.h"
#include "engine/backends/cpu/indexing.h"
#include "engine/backends/cpu/kernels/register.h"
#include "engine/common/dtype_dispatch.h"
#include "engine/ops/defs/int_args.h"
#include "engine/ops/defs/subtensor.h"

namespace tensord::cpu {
namespace {

using namespace ::tensord::ops;  // NOLINT: the ops these kernels run

using subtensor::Entry;
using subtensor::Kind;

// An advanced index resolved against a tensor at run time. The selected elements are laid out
// as index dims (flattened to `count` positions) then slice dims; `nbefore` slice dims move in
// front of the index dims in the result when the arrays are adjacent.
struct Resolved {
  Shape index_shape;
  int64_t count = 1;
  std::vector<std::vector<int64_t>> offsets;  // per index array: element offset per position
  Shape slice_shape;
  Strides slice_strides;
  int64_t base = 0;
  int nbefore = 0;

  // Result dim order: position in the (index dims + slice dims) layout for each result dim.
  std::vector<int> ResultOrder() const {
    const int ni = static_cast<int>(index_shape.size());
    const int ns = static_cast<int>(slice_shape.size());
    std::vector<int> order;
    for (int i = 0; i < nbefore; ++i) order.push_back(ni + i);
    for (int i = 0; i < ni; ++i) order.push_back(i);
    for (int i = nbefore; i < ns; ++i) order.push_back(ni + i);
    return order;
  }
};

absl::StatusOr<Resolved> Resolve(const Tensor& x, const std::vector<Entry>& entries, bool adjacent,
                                 std::span<const Tensor* const> in) {
  Resolved r;
  std::vector<Tensor> arrays;  // int64
  std::vector<int> axes;
  int d = 0;
  bool seen_array = false;
  for (const Entry& e : entries) {
    if (e.kind == Kind::kSlice) {
      const int64_t n = x.shape()[d], stride = x.strides()[d];
      TENSORD_ASSIGN_OR_RETURN(auto dim, indexing::ApplySlice(e, in, n, stride, &r.base));
      r.slice_shape.push_back(dim.size);
      r.slice_strides.push_back(dim.stride);
      if (!seen_array && adjacent) ++r.nbefore;
      ++d;
      continue;
    }
    seen_array = true;
    const Tensor& t = *in[e.input];
    if (t.dtype() == DType::kUInt64) {  // values past int64 must not wrap to negative indices
      TENSORD_ASSIGN_OR_RETURN(auto values, ReadInts(t, "an index array"));
      for (size_t i = 0; i < values.size(); ++i) {
        if (values[i] < 0) {
          return InvalidArgument("index ", static_cast<uint64_t>(values[i]),
                                 " is out of bounds for axis ", d, " with size ", x.shape()[d]);
        }
      }
    }
    if (t.dtype() != DType::kBool) {
      Tensor as64;
      TENSORD_RETURN_IF_ERROR(CastInto(t, DType::kInt64, as64));
      arrays.push_back(as64);
      axes.push_back(d++);
      continue;
    }
    for (int k = 0; k < t.ndim(); ++k) {
      if (t.shape()[k] != x.shape()[d + k]) {
        return InvalidArgument("boolean index did not match indexed array along dimension ", d + k,
                               "; dimension is ", x.shape()[d + k],
                               " but corresponding boolean dimension is ", t.shape()[k]);
      }
    }
    // mask -> mask.nonzero(): one int64 vector per mask dim.
    const Tensor mask = Contiguous(t);
    std::vector<std::vector<int64_t>> nz(t.ndim());
    const Strides cs = runtime::ContiguousStrides(t.shape());
    for (int64_t i = 0; i < mask.num_elements(); ++i) {
      if (!mask.data<bool>()[i]) continue;
      for (int k = 0; k < t.ndim(); ++k) nz[k].push_back(i / cs[k] % t.shape()[k]);
    }
    for (int k = 0; k < t.ndim(); ++k) {
      Tensor v(DType::kInt64, {static_cast<int64_t>(nz[k].size())});
      std::copy(nz[k].begin(), nz[k].end(), v.data<int64_t>());
      arrays.push_back(v);
      axes.push_back(d++);
    }
    // A 0-d mask indexes no dim: x[True] adds a dim of length 1, x[False] one of length 0.
    if (t.ndim() == 0) {
      Tensor v(DType::kInt64, {mask.data<bool>()[0] ? 1 : 0});
      arrays.push_back(v);
      axes.push_back(-1);
    }
  }
  for (; d < x.ndim(); ++d) {
    r.slice_shape.push_back(x.shape()[d]);
    r.slice_strides.push_back(x.strides()[d]);
  }
  std::vector<const Shape*> shapes;
  for (const Tensor& a : arrays) shapes.push_back(&a.shape());
  auto joint = BroadcastShapes(shapes);
  if (!joint.ok()) {
    return InvalidArgument("shape mismatch: indexing arrays could not be broadcast together: ",
                           joint.status().message());
  }
  r.index_shape = *joint;
  // Index arrays broadcast (an (n, 1) and a (1, n) array select n * n positions): bound the
  // per-position offsets before allocating them.
  TENSORD_ASSIGN_OR_RETURN(r.count, runtime::CheckedNumElements(r.index_shape, sizeof(int64_t)));
  for (size_t k = 0; k < arrays.size(); ++k) {
    std::vector<int64_t> idx(r.count);
    StridedCopy(arrays[k].data<int64_t>(), BroadcastStrides(arrays[k], r.index_shape),
                r.index_shape, idx.data());
    if (axes[k] < 0) {  // 0-d mask: a new length-1 axis, nothing to offset
      for (int64_t& i : idx) i = 0;
    } else {
      const int64_t n = x.shape()[axes[k]], stride = x.strides()[axes[k]];
      for (int64_t& i : idx) {
        int64_t off = 0;
        TENSORD_RETURN_IF_ERROR(indexing::ApplyInt(i, axes[k], n, stride, &off));
        i = off;
      }
    }
    r.offsets.push_back(std::move(idx));
  }
  return r;
}

class AdvancedKernel final : public Kernel {
 public:
  AdvancedKernel(std::vector<Entry> entries, bool inc, bool set)
      : entries_(std::move(entries)),
        adjacent_(subtensor::ArraysAdjacent(entries_)),
        inc_(inc),
        set_(set) {}

  absl::Status Run(std::span<const Tensor* const> in, std::span<Tensor* const> out) override {
    const Tensor& x = *in[0];
    if (!inc_) {
      TENSORD_ASSIGN_OR_RETURN(Resolved r, Resolve(x, entries_, adjacent_, in));
      return Gather(x, r, *out[0]);
    }
    TENSORD_RETURN_IF_ERROR(Resolve(x, entries_, adjacent_, in).status());  // errors first
    TENSORD_RETURN_IF_ERROR(indexing::CopyInto(x, *out[0]));
    TENSORD_ASSIGN_OR_RETURN(Resolved r, Resolve(*out[0], entries_, adjacent_, in));
    return Scatter(r, *in[1], *out[0]);
  }

 private:
  static int64_t Offset(const Resolved& r, int64_t p) {
    int64_t off = r.base;
    for (const auto& o : r.offsets) off += o[p];
    return off;
  }

  static absl::Status Gather(const Tensor& x, const Resolved& r, Tensor& out) {
    Shape shape = r.index_shape;
    shape.insert(shape.end(), r.slice_shape.begin(), r.slice_shape.end());
    TENSORD_RETURN_IF_ERROR(out.Reshape(x.dtype(), shape));
    const int64_t block = runtime::NumElements(r.slice_shape);
    TENSORD_RETURN_IF_ERROR(DispatchAll(x.dtype(), [&](auto tag) -> absl::Status {
      using T = typename decltype(tag)::type;
      for (int64_t p = 0; p < r.count; ++p) {
        StridedCopy(x.data<T>() + Offset(r, p), r.slice_strides, r.slice_shape,
                    out.data<T>() + p * block);
      }
      return absl::OkStatus();
    }));
    if (r.nbefore == 0) return absl::OkStatus();
    // Slice dims in front of the index dims: a transposed view of the gathered block.
    const Strides cs = out.strides();
    Shape rs;
    Strides rst;
    for (int i : r.ResultOrder()) rs.push_back(shape[i]), rst.push_back(cs[i]);
    out = out.StridedView(std::move(rs), std::move(rst), 0);
    return absl::OkStatus();
  }

  absl::Status Scatter(const Resolved& r, const Tensor& y, Tensor& out) const {
    const std::vector<int> order = r.ResultOrder();
    Shape layout = r.index_shape;  // index dims then slice dims
    layout.insert(layout.end(), r.slice_shape.begin(), r.slice_shape.end());
    Shape result;
    for (int i : order) result.push_back(layout[i]);
    if (y.ndim() > static_cast<int>(result.size())) {
      return InvalidArgument("cannot ", set_ ? "set" : "increment", " a ", result.size(),
                             "-d subtensor with a ", y.ndim(), "-d value");
    }
    const Shape* shapes[] = {&y.shape(), &result};
    auto joint = BroadcastShapes(shapes);
    if (!joint.ok() || *joint != result) {
      return InvalidArgument("value of shape ", runtime::ShapeString(y.shape()),
                             " cannot be broadcast to the indexed shape ",
                             runtime::ShapeString(result));
    }
    const Strides yr = BroadcastStrides(y, result);
    Strides ylayout(layout.size());
    for (size_t i = 0; i < order.size(); ++i) ylayout[order[i]] = yr[i];
    const size_t ni = r.index_shape.size();
    const Strides yslice(ylayout.begin() + ni, ylayout.end());
    return DispatchAll(out.dtype(), [&](auto tag) -> absl::Status {
      using T = typename decltype(tag)::type;
      T* dst = out.data<T>();
      const T* src = y.data<T>();
      const int64_t dstep = r.slice_strides.empty() ? 0 : r.slice_strides.back();
      const int64_t sstep = yslice.empty() ? 0 : yslice.back();
      for (int64_t p = 0; p < r.count; ++p) {
        int64_t yoff = 0, rest = p;
        for (int k = static_cast<int>(ni) - 1; k >= 0; --k) {
          yoff += (rest % r.index_shape[k]) * ylayout[k];
          rest /= r.index_shape[k];
        }
        T* d = dst + Offset(r, p);
        const T* s = src + yoff;
        ForEachRow(r.slice_shape, {r.slice_strides, yslice},
                   [&](int64_t n, int64_t, const int64_t* off) {
                     for (int64_t i = 0; i < n; ++i) {
                       T& t = d[off[0] + i * dstep];
                       const T v = s[off[1] + i * sstep];
                       t = set_ ? v : static_cast<T>(t + v);
                     }
                   });
      }
      return absl::OkStatus();
    });
  }

  std::vector<Entry> entries_;
  bool adjacent_, inc_, set_;
};

}  // namespace

void RegisterAdvancedSubtensorKernels(backends::KernelTable& k) {
  auto advanced = [&](const char* op, bool inc) {
    k.Add(op, [inc](const ir::Apply& node) -> absl::StatusOr<std::unique_ptr<Kernel>> {
      TENSORD_ASSIGN_OR_RETURN(auto entries, subtensor::Entries(node, inc ? 2 : 1));
      bool set = false;
      if (inc) {
        TENSORD_ASSIGN_OR_RETURN(set, subtensor::SetInsteadOfInc(node));
      }
      return std::unique_ptr<Kernel>(new AdvancedKernel(std::move(entries), inc, set));
    });
  };
  advanced("advanced_subtensor1", false);
  advanced("advanced_subtensor", false);
  advanced("advanced_inc_subtensor1", true);
  advanced("advanced_inc_subtensor", true);
}

}  // namespace tensord::cpu
