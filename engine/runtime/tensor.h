// An n-d array in host memory: a reference-counted buffer read through element strides and an
// element offset. Kernels write C-contiguous outputs; views (reshape of contiguous data,
// dimshuffle, basic slicing) share their input's buffer with other strides, possibly negative.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "engine/common/dtype.h"
#include "engine/common/status.h"
#include "engine/runtime/memory_stats.h"

namespace tensord::runtime {

using Shape = std::vector<int64_t>;
using Strides = std::vector<int64_t>;  // in elements, not bytes

int64_t NumElements(const Shape& shape);  // for shapes already known to be valid
// The element count of a shape a request asked for: INVALID_ARGUMENT for negative dims,
// RESOURCE_EXHAUSTED when it (times `itemsize`) overflows or passes MaxTensorBytes().
absl::StatusOr<int64_t> CheckedNumElements(const Shape& shape, size_t itemsize = 1);
// The largest single tensor the server allocates (flag --max_tensor_bytes).
int64_t MaxTensorBytes();
void SetMaxTensorBytes(int64_t bytes);
std::string ShapeString(const Shape& shape);  // "(2, 3)", "(3,)"
Strides ContiguousStrides(const Shape& shape);

// 64-byte aligned memory, so vectorized kernels and BLAS get aligned rows: from the host
// allocator's cache of freed blocks (engine/runtime/host_allocator.h), or from the device
// allocator of a device context that has one (MemoryCounter::block_source). Charged to the
// thread's current context (engine/runtime/memory_stats.h) while it lives, for the bytes asked.
class Buffer {
 public:
  explicit Buffer(size_t bytes);
  ~Buffer();
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;

  void* data() const { return data_; }
  size_t bytes() const { return bytes_; }
  // The context whose memory holds it (the one current when it was allocated).
  MemoryCounter* counter() const { return counter_; }
  // Charged to a tenant's DeviceQuota (allocated on a device by one of its runs).
  bool has_quota() const { return quota_ != nullptr; }
  // Credits the quota back: the buffer became a resident value (a shared variable's, a device
  // array's), which the tenant's byte budget counts from now on.
  void ReleaseQuota();
  // Its device allocator (null: host memory), and whether the host may touch its bytes.
  BlockSource* source() const { return source_.get(); }
  bool host_accessible() const { return source_ == nullptr || source_->host_accessible(); }

 private:
  void* data_ = nullptr;
  size_t bytes_ = 0;
  size_t capacity_ = 0;  // of the block holding it (bytes_ rounded up, or a reused block's)
  MemoryCounter* counter_ = nullptr;
  std::shared_ptr<DeviceQuota> quota_;   // a device buffer's run's, when its tenant has a quota
  std::shared_ptr<BlockSource> source_;  // its device allocator (null: the host allocator's)
};

class Tensor {
 public:
  Tensor() = default;
  // Allocates uninitialized C-contiguous storage for `shape`.
  Tensor(DType dtype, Shape shape);
  // Fails with RESOURCE_EXHAUSTED instead of throwing when the size is absurd.
  static absl::StatusOr<Tensor> Allocate(DType dtype, Shape shape);

  DType dtype() const { return dtype_; }
  const Shape& shape() const { return shape_; }
  const Strides& strides() const { return strides_; }
  int ndim() const { return static_cast<int>(shape_.size()); }
  int64_t num_elements() const { return NumElements(shape_); }
  size_t num_bytes() const { return num_elements() * DTypeSize(dtype_); }
  // True when elements are laid out in C order with no gaps (size-1 dims may have any stride).
  bool is_contiguous() const;

  // Address of element (0, ..., 0).
  void* raw() const {
    return buffer_ ? static_cast<char*>(buffer_->data()) + offset_ * DTypeSize(dtype_) : nullptr;
  }
  template <typename T>
  T* data() const {
    return static_cast<T*>(raw());
  }
  const std::shared_ptr<Buffer>& buffer() const { return buffer_; }
  // Whether the host may read and write the elements: host memory or a simulated device's, not
  // a GPU's (OnHost and IntoContext below cross over).
  bool host_accessible() const { return buffer_ == nullptr || buffer_->host_accessible(); }

  // Makes this tensor a C-contiguous `dtype`/`shape` array, keeping its buffer when it is large
  // enough and not shared with anyone else (so steady-state runs do not allocate).
  absl::Status Reshape(DType dtype, const Shape& shape);

  // The same elements read with another shape; only for contiguous tensors.
  Tensor View(Shape shape) const;
  // The same buffer read through arbitrary strides from element `offset` (relative to this
  // tensor's first element). The caller guarantees every index stays inside the buffer.
  Tensor StridedView(Shape shape, Strides strides, int64_t offset) const;

 private:
  DType dtype_ = DType::kInvalid;
  Shape shape_;
  Strides strides_;
  int64_t offset_ = 0;
  std::shared_ptr<Buffer> buffer_;
};

// Where to build a value meant for `context`: the context itself when the host can write its
// memory, else the host (and IntoContext then copies the value in).
MemoryCounter* HostWritable(MemoryCounter* context);
// `t`'s elements where the host can read them: `t` itself, or a copy out of a GPU's memory
// into host memory (for a strided view, of the span it reaches, read through its strides).
// INTERNAL when the device fails.
absl::StatusOr<Tensor> OnHost(const Tensor& t);
// `t` in `context`'s memory: `t` itself when it is charged there already, else a copy (`t`
// must be contiguous host memory). RESOURCE_EXHAUSTED when the context has no room, INTERNAL
// when the device fails.
absl::StatusOr<Tensor> IntoContext(Tensor t, MemoryCounter* context);

}  // namespace tensord::runtime
