// Theano's TensorType: a dtype and a broadcastable flag per dimension.
#pragma once

#include <string>
#include <vector>

#include "engine/common/dtype.h"

namespace tensord::ir {

// Ranks beyond this are refused wherever a request sets one (NumPy's own limit is 64).
constexpr int kMaxRank = 64;

struct Type {
  DType dtype = DType::kInvalid;
  std::vector<bool> broadcastable;

  int ndim() const { return static_cast<int>(broadcastable.size()); }
  bool operator==(const Type&) const = default;

  static Type Scalar(DType d) { return Type{d, {}}; }
  static Type Of(DType d, int ndim) { return Type{d, std::vector<bool>(ndim, false)}; }
};

// "TensorType(float32, matrix)", as Theano prints it.
std::string TypeString(const Type& t);

}  // namespace tensord::ir
