#include "engine/common/dtype.h"

#include <array>

namespace tensord {
namespace {

struct Info {
  const char* name;
  size_t size;
};

constexpr std::array<Info, kMaxDType + 1> kInfo = {{
    {"invalid", 0},
    {"bool", 1},
    {"int8", 1},
    {"int16", 2},
    {"int32", 4},
    {"int64", 8},
    {"uint8", 1},
    {"uint16", 2},
    {"uint32", 4},
    {"uint64", 8},
    {"float16", 2},
    {"float32", 4},
    {"float64", 8},
}};

DType SignedOfSize(size_t bytes) {
  switch (bytes) {
    case 1:
      return DType::kInt8;
    case 2:
      return DType::kInt16;
    case 4:
      return DType::kInt32;
    default:
      return DType::kInt64;
  }
}

DType FloatOfSize(size_t bytes) {
  if (bytes <= 2) return DType::kFloat16;
  if (bytes <= 4) return DType::kFloat32;
  return DType::kFloat64;
}

// The smallest float holding every value of an integer type exactly, as NumPy picks it.
size_t FloatSizeForInt(DType d) {
  size_t s = DTypeSize(d);
  return s == 1 ? 2 : s == 2 ? 4 : 8;
}

}  // namespace

bool IsValidDType(int value) { return value > 0 && value <= kMaxDType; }

// Bounds-checked in every build: a DType can hold any int (a cast from the wire, a corrupt
// attribute), and an unchecked index here once let a client read server memory.
size_t DTypeSize(DType d) {
  return IsValidDType(static_cast<int>(d)) ? kInfo[static_cast<int>(d)].size : 0;
}
const char* DTypeName(DType d) {
  return IsValidDType(static_cast<int>(d)) ? kInfo[static_cast<int>(d)].name : "invalid";
}

std::optional<DType> DTypeFromName(std::string_view name) {
  for (int i = 1; i <= kMaxDType; ++i)
    if (name == kInfo[i].name) return static_cast<DType>(i);
  return std::nullopt;
}

bool IsFloat(DType d) {
  return d == DType::kFloat16 || d == DType::kFloat32 || d == DType::kFloat64;
}
bool IsSignedInt(DType d) { return d >= DType::kInt8 && d <= DType::kInt64; }
bool IsUnsignedInt(DType d) { return d >= DType::kUInt8 && d <= DType::kUInt64; }

DType Promote(DType a, DType b) {
  if (a == b) return a;
  if (a == DType::kBool) return b;
  if (b == DType::kBool) return a;
  if (IsFloat(a) || IsFloat(b)) {
    size_t need = 0;
    for (DType d : {a, b}) need = std::max(need, IsFloat(d) ? DTypeSize(d) : FloatSizeForInt(d));
    return FloatOfSize(need);
  }
  if (IsSignedInt(a) == IsSignedInt(b)) return DTypeSize(a) >= DTypeSize(b) ? a : b;
  DType s = IsSignedInt(a) ? a : b;
  DType u = IsSignedInt(a) ? b : a;
  if (DTypeSize(s) > DTypeSize(u)) return s;
  if (DTypeSize(u) == 8) return DType::kFloat64;  // no integer type holds both int64 and uint64
  return SignedOfSize(DTypeSize(u) * 2);
}

bool CanCastSafely(DType from, DType to) { return Promote(from, to) == to; }

DType UpgradeToFloat(DType d) {
  if (IsFloat(d)) return d;
  if (d == DType::kBool || DTypeSize(d) <= 2) return DType::kFloat32;
  return DType::kFloat64;
}

DType SumResultType(DType d) {
  if (d == DType::kBool || (IsSignedInt(d) && DTypeSize(d) < 8)) return DType::kInt64;
  if (IsUnsignedInt(d)) return DType::kUInt64;
  return d;
}

}  // namespace tensord
