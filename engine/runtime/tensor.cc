#include "engine/runtime/tensor.h"

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <new>
#include <stdexcept>

#include "absl/strings/str_join.h"
#include "engine/runtime/host_allocator.h"

namespace tensord::runtime {
namespace {
// A request asking for more than this in one tensor is refused rather than left to the OOM killer.
std::atomic<int64_t> max_tensor_bytes{int64_t{8} << 30};
}  // namespace

int64_t MaxTensorBytes() { return max_tensor_bytes.load(std::memory_order_relaxed); }
void SetMaxTensorBytes(int64_t bytes) { max_tensor_bytes.store(bytes, std::memory_order_relaxed); }

absl::StatusOr<int64_t> CheckedNumElements(const Shape& shape, size_t itemsize) {
  int64_t n = 1;
  bool overflow = false;
  for (int64_t d : shape) {
    if (d < 0) return InvalidArgument("negative dimension in shape ", ShapeString(shape));
    overflow |= __builtin_mul_overflow(n, d, &n);
  }
  int64_t bytes = 0;
  overflow |= __builtin_mul_overflow(n, static_cast<int64_t>(itemsize), &bytes);
  if (overflow || bytes > MaxTensorBytes()) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "a tensor of shape ", ShapeString(shape), " would exceed the server's limit of ",
        MaxTensorBytes(), " bytes per tensor (--max_tensor_bytes)"));
  }
  return n;
}

int64_t NumElements(const Shape& shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

std::string ShapeString(const Shape& shape) {
  if (shape.size() == 1) return absl::StrCat("(", shape[0], ",)");
  return absl::StrCat("(", absl::StrJoin(shape, ", "), ")");
}

Strides ContiguousStrides(const Shape& shape) {
  Strides s(shape.size(), 1);
  for (int d = static_cast<int>(shape.size()) - 2; d >= 0; --d) s[d] = s[d + 1] * shape[d + 1];
  return s;
}

Buffer::Buffer(size_t bytes) : bytes_(bytes) {
  // Charged first: a tenant at its quota, or a context at its memory limit, refuses before
  // anything is allocated (the quota first, so a refusal leaves the context's peak alone).
  counter_ = CurrentMemoryCounter();
  if (counter_->is_device() && CurrentDeviceQuota() != nullptr) {
    CurrentDeviceQuota()->Allocated(static_cast<int64_t>(bytes_));
    quota_ = CurrentDeviceQuota();
  }
  try {
    counter_->Allocated(static_cast<int64_t>(bytes_));
  } catch (...) {
    ReleaseQuota();
    throw;
  }
  try {
    if (counter_->is_device()) source_ = counter_->block_source();
    if (source_ != nullptr) {
      const BlockSource::Block block = source_->Allocate(bytes);
      data_ = block.data;
      capacity_ = block.capacity;
    } else {
      const HostAllocator::Block block = HostAllocator::Global().Allocate(bytes);
      data_ = block.data;
      capacity_ = block.capacity;
    }
  } catch (...) {
    counter_->Freed(static_cast<int64_t>(bytes_));
    ReleaseQuota();
    throw;
  }
}

Buffer::~Buffer() {
  if (source_ != nullptr) {
    source_->Free(data_);
  } else {
    HostAllocator::Global().Free({data_, capacity_});
  }
  counter_->Freed(static_cast<int64_t>(bytes_));
  ReleaseQuota();
}

void Buffer::ReleaseQuota() {
  if (quota_ == nullptr) return;
  quota_->Freed(static_cast<int64_t>(bytes_));
  quota_.reset();
}

Tensor::Tensor(DType dtype, Shape shape)
    : dtype_(dtype), shape_(std::move(shape)), strides_(ContiguousStrides(shape_)) {
  buffer_ = std::make_shared<Buffer>(num_bytes());
}

absl::StatusOr<Tensor> Tensor::Allocate(DType dtype, Shape shape) {
  TENSORD_ASSIGN_OR_RETURN(int64_t elements, CheckedNumElements(shape, DTypeSize(dtype)));
  const int64_t bytes = elements * static_cast<int64_t>(DTypeSize(dtype));
  try {
    return Tensor(dtype, std::move(shape));
  } catch (const OutOfDeviceMemory& e) {
    return absl::ResourceExhaustedError(e.what());
  } catch (const std::bad_alloc&) {
    return absl::ResourceExhaustedError(absl::StrCat("out of memory allocating ", bytes, " bytes"));
  } catch (const std::runtime_error& e) {  // the device failed (DeviceBlocks)
    return absl::InternalError(e.what());
  }
}

bool Tensor::is_contiguous() const {
  int64_t expected = 1;
  for (int d = ndim() - 1; d >= 0; --d) {
    if (shape_[d] == 1) continue;
    if (strides_[d] != expected) return false;
    expected *= shape_[d];
  }
  return true;
}

absl::Status Tensor::Reshape(DType dtype, const Shape& shape) {
  TENSORD_ASSIGN_OR_RETURN(int64_t elements, CheckedNumElements(shape, DTypeSize(dtype)));
  const size_t need = elements * DTypeSize(dtype);
  if (buffer_ && buffer_.use_count() == 1 && buffer_->bytes() >= need &&
      buffer_->bytes() <= 2 * need + 4096) {
    // Assigning in place keeps the vectors' storage: a steady-state run allocates nothing here.
    dtype_ = dtype;
    if (&shape != &shape_) shape_.assign(shape.begin(), shape.end());
    strides_.resize(shape_.size());
    int64_t stride = 1;
    for (int d = static_cast<int>(shape_.size()) - 1; d >= 0; --d) {
      strides_[d] = stride;
      stride *= shape_[d];
    }
    offset_ = 0;
    return absl::OkStatus();
  }
  TENSORD_ASSIGN_OR_RETURN(*this, Allocate(dtype, shape));
  return absl::OkStatus();
}

MemoryCounter* HostWritable(MemoryCounter* context) {
  const std::shared_ptr<BlockSource> source = context->block_source();
  return source == nullptr || source->host_accessible() ? context : MemoryCounterFor("cpu");
}

namespace {
// Runs `body`, turning a device's failure (std::runtime_error from its copies) into INTERNAL.
template <typename F>
absl::Status DeviceCopy(F body) {
  try {
    body();
  } catch (const std::runtime_error& e) {
    return absl::InternalError(e.what());
  }
  return absl::OkStatus();
}
}  // namespace

absl::StatusOr<Tensor> OnHost(const Tensor& t) {
  if (t.host_accessible()) return t;
  ScopedMemoryContext host(MemoryCounterFor("cpu"));
  if (t.is_contiguous()) {
    TENSORD_ASSIGN_OR_RETURN(Tensor copy, Tensor::Allocate(t.dtype(), t.shape()));
    TENSORD_RETURN_IF_ERROR(
        DeviceCopy([&] { t.buffer()->source()->CopyToHost(copy.raw(), t.raw(), t.num_bytes()); }));
    return copy;
  }
  // A strided view (a transpose on the device): the span of elements it reaches comes over,
  // read through the same strides on the host.
  if (t.num_elements() == 0) return Tensor::Allocate(t.dtype(), t.shape());
  int64_t lo = 0, hi = 0;  // element offsets from the first element
  for (int d = 0; d < t.ndim(); ++d) {
    const int64_t reach = (t.shape()[d] - 1) * t.strides()[d];
    (reach < 0 ? lo : hi) += reach;
  }
  TENSORD_ASSIGN_OR_RETURN(Tensor span, Tensor::Allocate(t.dtype(), {hi - lo + 1}));
  const int64_t item = static_cast<int64_t>(DTypeSize(t.dtype()));
  const char* from = static_cast<const char*>(t.raw()) + lo * item;
  TENSORD_RETURN_IF_ERROR(
      DeviceCopy([&] { t.buffer()->source()->CopyToHost(span.raw(), from, span.num_bytes()); }));
  return span.StridedView(t.shape(), t.strides(), -lo);
}

absl::StatusOr<Tensor> IntoContext(Tensor t, MemoryCounter* context) {
  if (t.buffer() != nullptr && t.buffer()->counter() == context) return t;
  if (!t.host_accessible() || !t.is_contiguous()) {
    return absl::InternalError("only contiguous host values are copied into a context");
  }
  ScopedMemoryContext on(context);
  TENSORD_ASSIGN_OR_RETURN(Tensor copy, Tensor::Allocate(t.dtype(), t.shape()));
  BlockSource* device = copy.buffer() == nullptr ? nullptr : copy.buffer()->source();
  if (device != nullptr && !device->host_accessible()) {
    TENSORD_RETURN_IF_ERROR(
        DeviceCopy([&] { device->CopyFromHost(copy.raw(), t.raw(), t.num_bytes()); }));
  } else if (t.num_bytes() > 0) {
    std::memcpy(copy.raw(), t.raw(), t.num_bytes());
  }
  return copy;
}

Tensor Tensor::View(Shape shape) const {
  Tensor view = *this;
  view.strides_ = ContiguousStrides(shape);
  view.shape_ = std::move(shape);
  return view;
}

Tensor Tensor::StridedView(Shape shape, Strides strides, int64_t offset) const {
  Tensor view = *this;
  view.shape_ = std::move(shape);
  view.strides_ = std::move(strides);
  view.offset_ += offset;
  return view;
}

}  // namespace tensord::runtime
