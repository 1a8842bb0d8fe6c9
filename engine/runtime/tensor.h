// A dense, C-contiguous array in host memory. Buffers are reference counted so a value can be
// shared between a session's shared variables, running executions and replies without copies.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "engine/common/dtype.h"
#include "engine/common/status.h"

namespace tensord::runtime {

using Shape = std::vector<int64_t>;

int64_t NumElements(const Shape& shape);
std::string ShapeString(const Shape& shape);  // "(2, 3)"

// 64-byte aligned host memory, so vectorized kernels and BLAS get aligned rows.
class Buffer {
 public:
  explicit Buffer(size_t bytes);
  ~Buffer();
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;

  void* data() const { return data_; }
  size_t bytes() const { return bytes_; }

 private:
  void* data_ = nullptr;
  size_t bytes_ = 0;
};

class Tensor {
 public:
  Tensor() = default;
  // Allocates uninitialized storage for `shape`.
  Tensor(DType dtype, Shape shape);
  // Fails with RESOURCE_EXHAUSTED instead of throwing when the size is absurd.
  static absl::StatusOr<Tensor> Allocate(DType dtype, Shape shape);

  DType dtype() const { return dtype_; }
  const Shape& shape() const { return shape_; }
  int ndim() const { return static_cast<int>(shape_.size()); }
  int64_t num_elements() const { return NumElements(shape_); }
  size_t num_bytes() const { return num_elements() * DTypeSize(dtype_); }
  bool empty_storage() const { return buffer_ == nullptr; }

  void* raw() const { return buffer_ ? buffer_->data() : nullptr; }
  template <typename T>
  T* data() const {
    return static_cast<T*>(raw());
  }
  const std::shared_ptr<Buffer>& buffer() const { return buffer_; }

  // Makes this tensor hold `dtype`/`shape`, keeping its buffer when it is large enough and
  // not shared with anyone else (so steady-state runs do not allocate).
  absl::Status Reshape(DType dtype, Shape shape);

  // The same storage read with another shape of equal size (reshape without copying).
  Tensor View(Shape shape) const;

  // A deep copy with its own buffer.
  Tensor Clone() const;

 private:
  DType dtype_ = DType::kInvalid;
  Shape shape_;
  std::shared_ptr<Buffer> buffer_;
};

}  // namespace tensord::runtime
