// CPU kernels of the ops declared in engine/ops/defs/pool.cc: loops over output rows, planes
// (the leading dims) split over the intra-op threads.
//
// One output row is the x-windows of the input rows its (z, y) window covers. For each input
// row the loops run over a tap kx outside and the windows j inside, reading element
// j * stride - pad + kx: no short per-window loop and no data-dependent branch, so the inner loop
// pipelines (and vectorizes where it can). A tap outside window j (clipped by the border) reads
// the window's first element instead, which max ignores and sums weigh by 0.
#include "engine/ops/defs/pool.h"

#include <cstring>
#include <limits>
#include <type_traits>

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
  std::vector<int64_t> x_start;  // j * stride - pad along the last dim
  int64_t x_taps = 1;            // the window size along the last dim
  int64_t x_stride = 1;
  bool x_unclipped = false;  // every window along the last dim whole: no tap to check
  bool tiled = false;        // stride == ws, no padding, every window whole: windows are disjoint
  bool covers_all = false;   // tiled, and every input element lies in a window
  int64_t in_size() const { return in[0] * in[1] * in[2]; }
  int64_t row_size() const { return static_cast<int64_t>(dim[2].size()); }
  int64_t out_size() const {
    return static_cast<int64_t>(dim[0].size() * dim[1].size()) * row_size();
  }
};

Windows MakeWindows(const PoolAttrs& a, const Shape& x) {
  Windows w;
  const int lead = static_cast<int>(x.size()) - a.nd;
  for (int d = 0; d < lead; ++d) w.planes *= x[d];
  for (int d = 0; d < 3; ++d) w.dim[d] = {{0, 1, 1}};
  for (int d = 0; d < a.nd; ++d) {
    const int slot = 3 - a.nd + d;
    w.in[slot] = x[lead + d];
    w.dim[slot] = PoolWindows(a, d, x[lead + d]);
  }
  const int last = a.nd - 1;
  // Taps past the input's end (+ pad) fall outside every window: a huge ws costs nothing.
  w.x_taps = std::min(a.ws[last], x[lead + last] + a.pad[last]);
  for (int64_t j = 0; j < w.row_size(); ++j) w.x_start.push_back(j * a.stride[last] - a.pad[last]);
  w.x_stride = a.stride[last];
  w.x_unclipped = a.pad[last] == 0 && a.ws[last] <= x[lead + last] &&
                  (w.row_size() == 0 || w.x_start.back() + a.ws[last] <= x[lead + last]);
  w.tiled = w.covers_all = true;
  for (int d = 0; d < a.nd; ++d) {
    const int64_t whole = static_cast<int64_t>(w.dim[3 - a.nd + d].size()) * a.ws[d];
    w.tiled &= a.stride[d] == a.ws[d] && a.pad[d] == 0 && whole <= x[lead + d];
    w.covers_all &= whole == x[lead + d];
  }
  w.covers_all &= w.tiled;
  return w;
}

// Calls fn(plane, first output of the row, window z, window y) for every output row, planes
// split over the intra-op threads.
template <typename Fn>
void ForEachOutputRow(const Windows& w, Fn&& fn) {
  const int64_t grain = std::max<int64_t>(1, 65536 / std::max<int64_t>(1, w.in_size()));
  runtime::ParallelFor(w.planes, grain, [&](int64_t begin, int64_t end) {
    for (int64_t p = begin; p < end; ++p) {
      int64_t o = p * w.out_size();
      for (const PoolWindow& z : w.dim[0]) {
        for (const PoolWindow& y : w.dim[1]) {
          fn(p, o, z, y);
          o += w.row_size();
        }
      }
    }
  });
}

// Calls visit(row offset in the plane, kx, j, element offset in the row, inside) for every tap
// of every window of an output row; `inside` is false where the tap falls outside window j
// (the offset is then the window's first element).
template <typename Visit>
inline void ForEachTap(const Windows& w, const PoolWindow& z, const PoolWindow& y, Visit&& visit) {
  const std::vector<PoolWindow>& xs = w.dim[2];
  const int64_t n = w.row_size();
  for (int64_t iz = z.lo; iz < z.hi; ++iz) {
    for (int64_t iy = y.lo; iy < y.hi; ++iy) {
      const int64_t row = (iz * w.in[1] + iy) * w.in[2];
      if (w.x_unclipped) {  // the common case (no padding, no partial window): a plain index
        for (int64_t kx = 0; kx < w.x_taps; ++kx)
          for (int64_t j = 0; j < n; ++j) visit(row, j, j * w.x_stride + kx, true);
        continue;
      }
      for (int64_t kx = 0; kx < w.x_taps; ++kx) {
        for (int64_t j = 0; j < n; ++j) {
          const int64_t ix = w.x_start[j] + kx;
          const bool inside = (ix >= xs[j].lo) & (ix < xs[j].hi);
          visit(row, j, inside ? ix : xs[j].lo, inside);
        }
      }
    }
  }
}

// Each window's maximum of an output row (NaN counts as the maximum, as numpy.max) into m: a
// plain max per tap (one maxss, no branch), NaNs noted apart and put in at the end.
template <typename T>
void RowMax(const Windows& w, const T* plane, const PoolWindow& z, const PoolWindow& y, T* m) {
  thread_local std::vector<unsigned char> nan;
  nan.assign(w.row_size(), 0);
  for (int64_t j = 0; j < w.row_size(); ++j)
    m[j] = plane[(z.lo * w.in[1] + y.lo) * w.in[2] + w.dim[2][j].lo];
  ForEachTap(w, z, y, [&](int64_t row, int64_t j, int64_t ix, bool) {
    const T v = plane[row + ix];
    m[j] = m[j] < v ? v : m[j];
    nan[j] |= static_cast<unsigned char>(v != v);
  });
  for (int64_t j = 0; j < w.row_size(); ++j)
    if (nan[j]) m[j] = std::numeric_limits<T>::quiet_NaN();
}

// Where each window's first maximum is (offsets in the plane into at): RowMax, then a second
// walk for the first element equal to it; taps run in the window's C order.
template <typename T>
void RowArgMax(const Windows& w, const T* plane, const PoolWindow& z, const PoolWindow& y, T* m,
               int64_t* at) {
  RowMax(w, plane, z, y, m);
  std::fill(at, at + w.row_size(), int64_t{-1});
  ForEachTap(w, z, y, [&](int64_t row, int64_t j, int64_t ix, bool) {
    const T v = plane[row + ix];
    const bool hit = (at[j] < 0) & ((v == m[j]) | ((v != v) & (m[j] != m[j])));
    at[j] = hit ? row + ix : at[j];
  });
}

// Tiled windows (Windows::tiled, e.g. the usual 2x2 with stride 2): window j's taps along the
// last dim are the k contiguous elements from j * k. With k a template constant for the usual
// widths the interleaved loads vectorize, and a tap needs no bounds check.
template <typename Fn>
void WithWidth(int64_t k, Fn&& fn) {
  switch (k) {
    case 2:
      return fn(std::integral_constant<int64_t, 2>{});
    case 3:
      return fn(std::integral_constant<int64_t, 3>{});
    default:
      return fn(k);
  }
}

// Calls fn(offset in the plane of the row's first element) for each input row of the (z, y)
// windows, in C order.
template <typename Fn>
inline void ForEachInputRow(const Windows& w, const PoolWindow& z, const PoolWindow& y, Fn&& fn) {
  for (int64_t iz = z.lo; iz < z.hi; ++iz)
    for (int64_t iy = y.lo; iy < y.hi; ++iy) fn((iz * w.in[1] + iy) * w.in[2]);
}

// Each tiled window's maximum as RowMax computes it: a plain max (maxss / maxps; no branch, in
// the vectorized loop and its scalar remainder alike) with NaNs noted in `nan` and put in at
// the end.
template <typename T, typename Width>
void TiledRowMax(const Windows& w, const T* plane, const PoolWindow& z, const PoolWindow& y,
                 Width k, T* m, T* nan) {
  const int64_t n = w.row_size();
  bool first = true;
  ForEachInputRow(w, z, y, [&](int64_t row) {
    const T* r = plane + row;
    for (int64_t j = 0; j < n; ++j) {
      T v = first ? r[j * k] : m[j];
      bool bad = first ? false : nan[j] != T(0);
      for (int64_t t = 0; t < k; ++t) {
        const T e = r[j * k + t];
        v = v < e ? e : v;
        bad |= e != e;
      }
      m[j] = v;
      nan[j] = bad ? T(1) : T(0);
    }
    first = false;
  });
  for (int64_t j = 0; j < n; ++j)
    m[j] = nan[j] != T(0) ? std::numeric_limits<T>::quiet_NaN() : m[j];
}

// Routes values through each tiled window's first maximum (or first NaN), in C order: rows
// outside, then the tap t, then the windows j inside (each window still sees its taps in
// order). kToInput (pool_grad): the tap at the maximum gets window j's value from[j], every
// other tap of the row 0. Otherwise (pool_grad_grad): to[j] gets from[] at the maximum. `found`
// is T, not bool, and every load comes before the compares: GCC then if-converts the body to
// compares and blends and vectorizes it.
template <bool kToInput, typename T, typename Width>
void TiledRouteAtMax(const Windows& w, const T* x, const PoolWindow& z, const PoolWindow& y,
                     Width k, const T* from, T* to, T* m, T* found) {
  const int64_t n = w.row_size();
  TiledRowMax(w, x, z, y, k, m, found);
  std::fill(found, found + n, T(0));
  if (!kToInput) std::fill(to, to + n, T(0));
  ForEachInputRow(w, z, y, [&](int64_t row) {
    const T* r = x + row;
    for (int64_t t = 0; t < k; ++t) {
      for (int64_t j = 0; j < n; ++j) {
        const int64_t e = row + j * k + t;
        const T v = r[j * k + t], max = m[j], seen = found[j];
        const T value = kToInput ? from[j] : from[e];
        const bool hit = (seen == T(0)) & ((v == max) | (v != v));
        found[j] = hit ? T(1) : seen;
        if constexpr (kToInput) {
          to[e] = hit ? value : T(0);
        } else {
          to[j] += hit ? value : T(0);
        }
      }
    }
  });
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
      TENSORD_RETURN_IF_ERROR(CheckPoolGradient(op_, *attrs_, x.shape(), g.shape()));
    }
    Tensor& result = *out[0];
    TENSORD_RETURN_IF_ERROR(
        result.Reshape(x.dtype(), grad ? x.shape() : PooledShapeOf(*attrs_, x.shape())));
    if (result.num_elements() == 0) return absl::OkStatus();
    if (w.in_size() == 0) {  // windows over no elements (an empty pooled dim): all zeros
      std::memset(result.raw(), 0, result.num_bytes());
      return absl::OkStatus();
    }
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
  // What window j's sum is divided by: 1 (sum), its elements or its length with the padding.
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

  // Per-thread row scratch (ranges run on several threads; steady runs do not allocate).
  template <typename T>
  struct Scratch {
    T* values;
    int64_t* offsets;
    T* flags;
  };
  template <typename T>
  static Scratch<T> RowScratch(int64_t n) {
    thread_local std::vector<T> values;
    thread_local std::vector<int64_t> offsets;
    thread_local std::vector<T> flags;
    values.resize(n);
    offsets.resize(n);
    flags.resize(n);
    return {values.data(), offsets.data(), flags.data()};
  }

  template <typename T>
  void Pool(const Windows& w, const T* x, T* y) const {
    ForEachOutputRow(w, [&](int64_t p, int64_t o, const PoolWindow& wz, const PoolWindow& wy) {
      const T* plane = x + p * w.in_size();
      T* row = y + o;
      if (attrs_->mode == PoolMode::kMax && w.tiled) {
        T* nan = RowScratch<T>(w.row_size()).flags;
        WithWidth(w.x_stride, [&](auto k) { TiledRowMax(w, plane, wz, wy, k, row, nan); });
        return;
      }
      if (attrs_->mode == PoolMode::kMax) {
        RowMax(w, plane, wz, wy, row);
        return;
      }
      T* sum = RowScratch<T>(w.row_size()).values;
      std::fill(sum, sum + w.row_size(), T(0));
      ForEachTap(w, wz, wy, [&](int64_t r, int64_t j, int64_t ix, bool inside) {
        sum[j] += inside ? plane[r + ix] : T(0);
      });
      for (int64_t j = 0; j < w.row_size(); ++j)
        row[j] = static_cast<T>(sum[j] / Divisor(wz, wy, w.dim[2][j]));
    });
  }

  // Planes (not windows) are the unit of parallel work: windows overlap when stride < ws. Tiled
  // max windows write every element they cover (the rest is zeroed first unless there is none).
  template <typename T>
  void PoolGrad(const Windows& w, const T* x, const T* gz, T* gx) const {
    const bool tiled_max = attrs_->mode == PoolMode::kMax && w.tiled;
    if (!(tiled_max && w.covers_all)) std::memset(gx, 0, sizeof(T) * w.planes * w.in_size());
    ForEachOutputRow(w, [&](int64_t p, int64_t o, const PoolWindow& wz, const PoolWindow& wy) {
      T* plane = gx + p * w.in_size();
      const Scratch<T> rs = RowScratch<T>(w.row_size());
      T* scratch = rs.values;
      int64_t* at = rs.offsets;
      T* found = rs.flags;
      if (tiled_max) {
        WithWidth(w.x_stride, [&](auto k) {
          TiledRouteAtMax<true>(w, x + p * w.in_size(), wz, wy, k, gz + o, plane, scratch, found);
        });
        return;
      }
      if (attrs_->mode == PoolMode::kMax) {
        RowArgMax(w, x + p * w.in_size(), wz, wy, scratch, at);
        for (int64_t j = 0; j < w.row_size(); ++j) plane[at[j]] += gz[o + j];
        return;
      }
      T* share = scratch;
      for (int64_t j = 0; j < w.row_size(); ++j)
        share[j] = static_cast<T>(gz[o + j] / Divisor(wz, wy, w.dim[2][j]));
      ForEachTap(w, wz, wy, [&](int64_t r, int64_t j, int64_t ix, bool inside) {
        plane[r + ix] += inside ? share[j] : T(0);
      });
    });
  }

  template <typename T>
  void ReadAtMax(const Windows& w, const T* x, const T* gg, T* out) const {
    ForEachOutputRow(w, [&](int64_t p, int64_t o, const PoolWindow& wz, const PoolWindow& wy) {
      const Scratch<T> rs = RowScratch<T>(w.row_size());
      T* scratch = rs.values;
      int64_t* at = rs.offsets;
      T* found = rs.flags;
      const T* g = gg + p * w.in_size();
      if (w.tiled) {
        WithWidth(w.x_stride, [&](auto k) {
          TiledRouteAtMax<false>(w, x + p * w.in_size(), wz, wy, k, g, out + o, scratch, found);
        });
        return;
      }
      RowArgMax(w, x + p * w.in_size(), wz, wy, scratch, at);
      for (int64_t j = 0; j < w.row_size(); ++j) out[o + j] = g[at[j]];
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
