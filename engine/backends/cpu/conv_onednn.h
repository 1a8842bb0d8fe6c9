// Float32 convolutions on oneDNN primitives (forward, backward-data, backward-weights). A
// primitive is created the first time a geometry is seen and kept by the kernel, so a function
// run on one shape creates it once and a new shape creates and keeps another. Operands and
// results stay in our plain layouts; where oneDNN's chosen implementation wants a blocked
// layout, cached reorders convert around it.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include "engine/ops/defs/conv.h"

namespace tensord::cpu {

class OneDnnConv {
 public:
  enum class Kind {
    kForward,          // out = conv(a = input, b = filters)
    kBackwardData,     // out = input gradient from (a = filters, b = output gradient)
    kBackwardWeights,  // out = filter gradient from (a = input, b = output gradient)
  };
  // conv_fused's epilogue. `bias`: oneDNN adds a bias per output channel as it writes the
  // result. `relu`: max(x, 0) applied while the result is copied out of oneDNN's blocked layout
  // (or in a pass over it where there is no such copy); not oneDNN's relu post-op, which
  // differs from maximum(x, 0): NaN becomes 0 in the direct kernels, -inf becomes NaN in the
  // GEMM one, negatives become -0.
  explicit OneDnnConv(Kind kind, bool bias = false, bool relu = false)
      : kind_(kind), bias_(bias), relu_(relu) {}
  ~OneDnnConv();

  // Contiguous float32 operands and result in plain layouts; cross-correlation (the caller
  // flips filters); `bias`: out_channels values when constructed with one. Safe to call from
  // several threads at once.
  absl::Status Run(const ops::ConvGeometry& g, const float* a, const float* b, float* out,
                   const float* bias = nullptr);

 private:
  struct Prepared;
  absl::StatusOr<std::shared_ptr<const Prepared>> Find(const ops::ConvGeometry& g);

  const Kind kind_;
  const bool bias_, relu_;
  std::mutex mu_;
  std::map<std::vector<int64_t>, std::shared_ptr<const Prepared>> cache_;  // by geometry
};

}  // namespace tensord::cpu
