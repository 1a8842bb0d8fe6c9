// Element types and NumPy's promotion rules.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

namespace tensord {

// Values match tensord.v1.DType so conversion is a cast.
enum class DType : int {
  kInvalid = 0,
  kBool = 1,
  kInt8 = 2,
  kInt16 = 3,
  kInt32 = 4,
  kInt64 = 5,
  kUInt8 = 6,
  kUInt16 = 7,
  kUInt32 = 8,
  kUInt64 = 9,
  kFloat16 = 10,
  kFloat32 = 11,
  kFloat64 = 12,
};

constexpr int kMaxDType = 12;
constexpr int kNumDTypes = kMaxDType + 1;  // for tables indexed by DType's value

// The DType of C++ element type T (kInvalid for types without one).
template <class T>
constexpr DType DTypeOf() {
  if constexpr (std::is_same_v<T, bool>)
    return DType::kBool;
  else if constexpr (std::is_same_v<T, int8_t>)
    return DType::kInt8;
  else if constexpr (std::is_same_v<T, int16_t>)
    return DType::kInt16;
  else if constexpr (std::is_same_v<T, int32_t>)
    return DType::kInt32;
  else if constexpr (std::is_same_v<T, int64_t>)
    return DType::kInt64;
  else if constexpr (std::is_same_v<T, uint8_t>)
    return DType::kUInt8;
  else if constexpr (std::is_same_v<T, uint16_t>)
    return DType::kUInt16;
  else if constexpr (std::is_same_v<T, uint32_t>)
    return DType::kUInt32;
  else if constexpr (std::is_same_v<T, uint64_t>)
    return DType::kUInt64;
  else if constexpr (std::is_same_v<T, float>)
    return DType::kFloat32;
  else if constexpr (std::is_same_v<T, double>)
    return DType::kFloat64;
  else
    return DType::kInvalid;
}

size_t DTypeSize(DType d);
const char* DTypeName(DType d);  // "float32", as NumPy spells it
std::optional<DType> DTypeFromName(std::string_view name);
bool IsValidDType(int value);
bool IsFloat(DType d);
bool IsSignedInt(DType d);
bool IsUnsignedInt(DType d);
inline bool IsInteger(DType d) { return IsSignedInt(d) || IsUnsignedInt(d); }

// numpy.result_type for two array dtypes (int64 + uint64 -> float64, int32 + float32 -> float64).
DType Promote(DType a, DType b);

// True when every value of `from` is representable in `to` (numpy.can_cast(..., 'safe')).
bool CanCastSafely(DType from, DType to);

// Theano's upgrade_to_float: the float type ops like true_div and exp produce for `d`.
DType UpgradeToFloat(DType d);

// The accumulator/result dtype of sum and prod (NumPy's): small ints widen to 64 bits.
DType SumResultType(DType d);

}  // namespace tensord
