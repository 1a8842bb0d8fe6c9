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
  explicit OneDnnConv(Kind kind) : kind_(kind) {}
  ~OneDnnConv();

  // Contiguous float32 operands and result in plain layouts; cross-correlation (the caller
  // flips filters). Safe to call from several threads at once.
  absl::Status Run(const ops::ConvGeometry& g, const float* a, const float* b, float* out);

 private:
  struct Prepared;
  absl::StatusOr<std::shared_ptr<const Prepared>> Find(const ops::ConvGeometry& g);

  const Kind kind_;
  std::mutex mu_;
  std::map<std::vector<int64_t>, std::shared_ptr<const Prepared>> cache_;  // by geometry
};

}  // namespace tensord::cpu
