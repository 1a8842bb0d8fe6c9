// CPU kernels of the ops declared in engine/ops/defs/pool.cc: direct loops over each window,
// split over the intra-op threads by planes (the leading dims).
#include "engine/ops/defs/pool.h"

#include <cmath>
#include <cstring>

#include "engine/backends/cpu/kernels/register.h"
#include "engine/runtime/parallel.h"

namespace tensord::cpu {
namespace {

using namespace ::tensord::ops;  // NOLINT: the ops these kernels run

// The windows of one input, the pooled dims padded to three in front (one window of size 1).
struct Windows {
  int64_t planes = 1;
  int64_t in[3] = {1, 1, 1};
  std::vector<PoolWindow> dim[3];
  Shape pooled;  // the output shape of pool
  int64_t in_size() const { return in[0] * in[1] * in[2]; }
  int64_t out_size() const {
    return static_cast<int64_t>(dim[0].size() * dim[1].size() * dim[2].size());
  }
};

Windows MakeWindows(const PoolAttrs& a, const Shape& x) {
  Windows w;
  const int lead = static_cast<int>(x.size()) - a.nd;
  for (int d = 0; d < lead; ++d) w.planes *= x[d], w.pooled.push_back(x[d]);
  for (int d = 0; d < 3; ++d) w.dim[d] = {{0, 1, 1}};
  for (int d = 0; d < a.nd; ++d) {
    const int slot = 3 - a.nd + d;
    w.in[slot] = x[lead + d];
    w.dim[slot] = PoolWindows(a, d, x[lead + d]);
    w.pooled.push_back(static_cast<int64_t>(w.dim[slot].size()));
  }
  return w;
}

// Calls fn(plane, output index, window z, y, x) for every window of every plane, planes split
// over the intra-op threads.
template <typename Fn>
void ForEachWindow(const Windows& w, Fn&& fn) {
  const int64_t grain = std::max<int64_t>(1, 65536 / std::max<int64_t>(1, w.in_size()));
  runtime::ParallelFor(w.planes, grain, [&](int64_t begin, int64_t end) {
    for (int64_t p = begin; p < end; ++p) {
      int64_t o = p * w.out_size();
      for (const PoolWindow& z : w.dim[0])
        for (const PoolWindow& y : w.dim[1])
          for (const PoolWindow& x : w.dim[2]) fn(p, o++, z, y, x);
    }
  });
}

// Calls visit(offset within the plane) for each input element of a window.
template <typename Visit>
void ForEachElement(const Windows& w, const PoolWindow& z, const PoolWindow& y, const PoolWindow& x,
                    Visit&& visit) {
  for (int64_t iz = z.lo; iz < z.hi; ++iz)
    for (int64_t iy = y.lo; iy < y.hi; ++iy)
      for (int64_t ix = x.lo; ix < x.hi; ++ix) visit((iz * w.in[1] + iy) * w.in[2] + ix);
}

// The offset of a window's first maximum (NaN counts as the maximum, as numpy.max), or -1
// for a window with no elements.
template <typename T>
int64_t ArgMax(const Windows& w, const T* plane, const PoolWindow& z, const PoolWindow& y,
               const PoolWindow& x) {
  int64_t best = -1;
  ForEachElement(w, z, y, x, [&](int64_t i) {
    if (best < 0 || std::isnan(plane[best])) {
      if (best < 0) best = i;
      return;
    }
    if (plane[i] > plane[best] || std::isnan(plane[i])) best = i;
  });
  return best;
}

class PoolKernel final : public Kernel {
 public:
  explicit PoolKernel(const ir::Apply& node) : op_(node.op), attrs_(GetPoolAttrs(node)) {}

  absl::Status Run(std::span<const Tensor* const> in, std::span<Tensor* const> out) override {
    TENSORD_RETURN_IF_ERROR(attrs_.status());
    const Tensor x = Contiguous(*in[0]);
    const Windows w = MakeWindows(*attrs_, x.shape());
    const bool grad = op_ == "pool_grad";
    Tensor g;
    if (in.size() > 1) {
      g = Contiguous(*in[1]);
      const Shape& want = grad ? w.pooled : x.shape();
      if (g.shape() != want) {
        return InvalidArgument(op_, ": the gradient has shape ", runtime::ShapeString(g.shape()),
                               " but ", grad ? "pooling " : "", "the input ",
                               runtime::ShapeString(x.shape()), grad ? " gives " : " is ",
                               runtime::ShapeString(want));
      }
    }
    Tensor& result = *out[0];
    TENSORD_RETURN_IF_ERROR(result.Reshape(x.dtype(), grad ? x.shape() : w.pooled));
    if (result.num_elements() == 0) return absl::OkStatus();
    return DispatchFloat(x.dtype(), [&](auto tag) -> absl::Status {
      using T = typename decltype(tag)::type;
      if (op_ == "pool") {
        Pool<T>(w, x.data<T>(), result.data<T>());
      } else if (grad) {
        PoolGrad<T>(w, x.data<T>(), g.data<T>(), result.data<T>());
      } else {
        ReadAtMax<T>(w, x.data<T>(), g.data<T>(), result.data<T>());
      }
      return absl::OkStatus();
    });
  }

 private:
  // What a window's sum is divided by: 1 (sum), its real elements or its padded length.
  double Divisor(const PoolWindow& z, const PoolWindow& y, const PoolWindow& x) const {
    switch (attrs_->mode) {
      case PoolMode::kSum:
      case PoolMode::kMax:
        return 1;
      case PoolMode::kAverageIncPad:
        return static_cast<double>(z.padded_len * y.padded_len * x.padded_len);
      case PoolMode::kAverageExcPad:
        return static_cast<double>((z.hi - z.lo) * (y.hi - y.lo) * (x.hi - x.lo));
    }
    return 1;
  }

  template <typename T>
  void Pool(const Windows& w, const T* x, T* y) const {
    ForEachWindow(w, [&](int64_t p, int64_t o, const PoolWindow& wz, const PoolWindow& wy,
                         const PoolWindow& wx) {
      const T* plane = x + p * w.in_size();
      if (attrs_->mode == PoolMode::kMax) {
        const int64_t best = ArgMax(w, plane, wz, wy, wx);
        y[o] = best < 0 ? T(0) : plane[best];
        return;
      }
      T sum = 0;
      ForEachElement(w, wz, wy, wx, [&](int64_t i) { sum += plane[i]; });
      const double divisor = Divisor(wz, wy, wx);
      y[o] = divisor > 0 ? static_cast<T>(sum / divisor) : T(0);
    });
  }

  // Windows overlap when stride < ws, so planes (not windows) are the unit of parallel work.
  template <typename T>
  void PoolGrad(const Windows& w, const T* x, const T* gz, T* gx) const {
    std::memset(gx, 0, sizeof(T) * w.planes * w.in_size());
    ForEachWindow(w, [&](int64_t p, int64_t o, const PoolWindow& wz, const PoolWindow& wy,
                         const PoolWindow& wx) {
      T* plane = gx + p * w.in_size();
      if (attrs_->mode == PoolMode::kMax) {
        const int64_t best = ArgMax(w, x + p * w.in_size(), wz, wy, wx);
        if (best >= 0) plane[best] += gz[o];
        return;
      }
      const double divisor = Divisor(wz, wy, wx);
      const T share = divisor > 0 ? static_cast<T>(gz[o] / divisor) : T(0);
      ForEachElement(w, wz, wy, wx, [&](int64_t i) { plane[i] += share; });
    });
  }

  template <typename T>
  void ReadAtMax(const Windows& w, const T* x, const T* gg, T* out) const {
    ForEachWindow(w, [&](int64_t p, int64_t o, const PoolWindow& wz, const PoolWindow& wy,
                         const PoolWindow& wx) {
      const int64_t best = ArgMax(w, x + p * w.in_size(), wz, wy, wx);
      out[o] = best < 0 ? T(0) : gg[p * w.in_size() + best];
    });
  }

  const std::string op_;
  const absl::StatusOr<PoolAttrs> attrs_;
};

}  // namespace

void RegisterPoolKernels(backends::KernelTable& k) {
  for (const char* op : {"pool", "pool_grad", "pool_grad_grad"})
    k.Add(op, backends::Make<PoolKernel>());
}

}  // namespace tensord::cpu
