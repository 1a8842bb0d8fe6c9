#include "engine/backends/cpu/random_mrg.h"

#include <cstring>

#include "engine/backends/cpu/broadcast.h"

namespace tensord::cpu {
namespace {

// Theano's C code relies on int32 wrap-around where the sums below exceed 2^31 (then a
// negative value triggers the "- M" correction); unsigned arithmetic wraps the same way
// without undefined behaviour.
inline int32_t WrapAdd(int32_t a, int32_t b) {
  return static_cast<int32_t>(static_cast<uint32_t>(a) + static_cast<uint32_t>(b));
}

inline int32_t Reduce(int32_t y, int32_t m) { return (y < 0 || y >= m) ? WrapAdd(y, -m) : y; }

constexpr int32_t kMask12 = 511;       // 2^9 - 1
constexpr int32_t kMask13 = 16777215;  // 2^24 - 1
constexpr int32_t kMask2 = 65535;      // 2^16 - 1
constexpr int32_t kMult2 = 21069;

}  // namespace

int32_t MrgNextRaw(int32_t* s) {
  const int32_t x11 = s[0], x12 = s[1], x13 = s[2], x21 = s[3], x22 = s[4], x23 = s[5];
  // First component: x1[n] = (2^22 x1[n-2] + (2^7 + 1) x1[n-3]) mod M1, by shifts and masks.
  int32_t y1 =
      WrapAdd(WrapAdd((x12 & kMask12) << 22, x12 >> 9), WrapAdd((x13 & kMask13) << 7, x13 >> 24));
  y1 = Reduce(y1, kMrgM1);
  y1 = Reduce(WrapAdd(y1, x13), kMrgM1);
  // Second component: x2[n] = (2^15 x2[n-1] + (2^15 + 1) x2[n-3]) mod M2.
  int32_t z1 = Reduce(WrapAdd((x21 & kMask2) << 15, kMult2 * (x21 >> 16)), kMrgM2);
  int32_t y2 = Reduce(WrapAdd((x23 & kMask2) << 15, kMult2 * (x23 >> 16)), kMrgM2);
  y2 = Reduce(WrapAdd(y2, x23), kMrgM2);
  y2 = Reduce(WrapAdd(y2, z1), kMrgM2);
  s[0] = y1;
  s[1] = x11;
  s[2] = x12;
  s[3] = y2;
  s[4] = x21;
  s[5] = x22;
  const int64_t diff = static_cast<int64_t>(y1) - y2;
  return static_cast<int32_t>(diff <= 0 ? diff + kMrgM1 : diff);
}

absl::Status CopyMrgState(const runtime::Tensor& state, runtime::Tensor& out, const char* op) {
  if (state.dtype() != DType::kInt32 || state.ndim() != 2 || state.shape()[1] != 6 ||
      state.shape()[0] < 1) {
    return InvalidArgument(op,
                           ": the generator state must be an int32 matrix of shape (streams, 6)"
                           " with at least one stream, got ",
                           DTypeName(state.dtype()), " of shape ",
                           runtime::ShapeString(state.shape()));
  }
  const runtime::Tensor src = Contiguous(state);
  TENSORD_RETURN_IF_ERROR(out.Reshape(DType::kInt32, state.shape()));
  std::memcpy(out.raw(), src.raw(), src.num_bytes());
  return absl::OkStatus();
}

}  // namespace tensord::cpu
