// Runtime dtype -> C++ type dispatch, for code that reads or writes host tensor elements.
#pragma once

#include <cmath>
#include <cstdint>
#include <type_traits>

#include "engine/common/dtype.h"
#include "engine/common/status.h"

namespace tensord {

template <typename T>
struct Tag {
  using type = T;
};

// Calls f(Tag<T>{}) for the C++ type T of `d`; f returns absl::Status.
template <typename F>
absl::Status DispatchAll(DType d, F&& f) {
  switch (d) {
    case DType::kBool:
      return f(Tag<bool>{});
    case DType::kInt8:
      return f(Tag<int8_t>{});
    case DType::kInt16:
      return f(Tag<int16_t>{});
    case DType::kInt32:
      return f(Tag<int32_t>{});
    case DType::kInt64:
      return f(Tag<int64_t>{});
    case DType::kUInt8:
      return f(Tag<uint8_t>{});
    case DType::kUInt16:
      return f(Tag<uint16_t>{});
    case DType::kUInt32:
      return f(Tag<uint32_t>{});
    case DType::kUInt64:
      return f(Tag<uint64_t>{});
    case DType::kFloat32:
      return f(Tag<float>{});
    case DType::kFloat64:
      return f(Tag<double>{});
    default:
      return Unimplemented("dtype ", DTypeName(d), " has no CPU kernel yet");
  }
}

// Like DispatchAll but only for float32/float64 (transcendental functions).
template <typename F>
absl::Status DispatchFloat(DType d, F&& f) {
  switch (d) {
    case DType::kFloat32:
      return f(Tag<float>{});
    case DType::kFloat64:
      return f(Tag<double>{});
    default:
      return Unimplemented("dtype ", DTypeName(d), " has no CPU kernel for this op");
  }
}

// NaN test that compiles for every element type (integers are never NaN).
template <typename T>
bool IsNan(T v) {
  if constexpr (std::is_floating_point_v<T>) {
    return std::isnan(v);
  } else {
    return false;
  }
}

}  // namespace tensord
