// The dtype lattice the helpers type with: NumPy's result_type (which the server uses too), not
// Theano's floatX-preserving upcast, so that int32 + float32 is float64 on both ends of the wire;
// Theano's upgrade_to_float; sum's accumulator. The rules of the elementwise ops and of the
// reductions are the op schema's (src/elementwise.cc and src/reduction_typing.cc apply them in
// these terms); dot, cumop and the shape ops use these directly.
#include "tensord/graph.h"

namespace tensord::client {
namespace {

DType SignedOfSize(size_t size) {
  switch (size) {
    case 1:
      return kInt8;
    case 2:
      return kInt16;
    case 4:
      return kInt32;
    default:
      return kInt64;
  }
}

// The smallest float that holds every value of an integer type, as NumPy chooses it.
DType FloatForInt(DType int_dtype) {
  switch (DTypeSize(int_dtype)) {
    case 1:
      return kFloat16;
    case 2:
      return kFloat32;
    default:
      return kFloat64;
  }
}

DType Wider(DType a, DType b) { return DTypeSize(a) >= DTypeSize(b) ? a : b; }

}  // namespace

DType ResultType(DType a, DType b) {
  if (DTypeSize(a) == 0 || DTypeSize(b) == 0) return ::tensord::v1::DT_INVALID;
  if (a == b) return a;
  if (a == kBool) return b;
  if (b == kBool) return a;
  if (IsFloat(a) && IsFloat(b)) return Wider(a, b);
  if (IsFloat(a)) return Wider(a, FloatForInt(b));
  if (IsFloat(b)) return Wider(b, FloatForInt(a));
  if (IsSignedInt(a) == IsSignedInt(b)) return Wider(a, b);
  const DType s = IsSignedInt(a) ? a : b;
  const DType u = IsSignedInt(a) ? b : a;
  if (DTypeSize(s) > DTypeSize(u)) return s;
  // No signed type holds every uint64, so NumPy gives up on integers there.
  if (u == kUInt64) return kFloat64;
  return SignedOfSize(2 * DTypeSize(u));
}

DType UpgradeToFloat(DType dtype) {
  if (IsFloat(dtype)) return dtype;
  switch (dtype) {
    case kBool:
    case kInt8:
    case kInt16:
    case kUInt8:
    case kUInt16:
      return kFloat32;
    case kInt32:
    case kInt64:
    case kUInt32:
    case kUInt64:
      return kFloat64;
    default:
      return ::tensord::v1::DT_INVALID;
  }
}

DType SumDType(DType dtype) {
  switch (dtype) {
    case kBool:
    case kInt8:
    case kInt16:
    case kInt32:
      return kInt64;
    case kUInt8:
    case kUInt16:
    case kUInt32:
      return kUInt64;
    default:
      return dtype;
  }
}

}  // namespace tensord::client
