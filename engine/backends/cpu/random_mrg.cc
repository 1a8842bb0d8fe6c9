#include "engine/backends/cpu/random_mrg.h"

#include <cstring>

#include "engine/backends/cpu/broadcast.h"

namespace tensord::cpu {

int32_t MrgNextRaw(int32_t* s) { return mrg_step::tensord_mrg_next(s); }

absl::Status CheckMrgState(const runtime::Tensor& state, const char* op) {
  if (state.dtype() != DType::kInt32 || state.ndim() != 2 || state.shape()[1] != 6 ||
      state.shape()[0] < 1) {
    return InvalidArgument(op,
                           ": the generator state must be an int32 matrix of shape (streams, 6)"
                           " with at least one stream, got ",
                           DTypeName(state.dtype()), " of shape ",
                           runtime::ShapeString(state.shape()));
  }
  return absl::OkStatus();
}

absl::Status CopyMrgState(const runtime::Tensor& state, runtime::Tensor& out, const char* op) {
  TENSORD_RETURN_IF_ERROR(CheckMrgState(state, op));
  const runtime::Tensor src = Contiguous(state);
  TENSORD_RETURN_IF_ERROR(out.Reshape(DType::kInt32, state.shape()));
  std::memcpy(out.raw(), src.raw(), src.num_bytes());
  return absl::OkStatus();
}

}  // namespace tensord::cpu
