// Host-side tensors for the tensord C++ client: dtype helpers and HostTensor, a dense C-order
// array that converts to and from the wire `tensord.v1.Tensor`.
#ifndef TENSORD_CLIENT_TENSOR_H_
#define TENSORD_CLIENT_TENSOR_H_

#include <bit>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "tensord/v1/tensor.pb.h"

// The wire format is little-endian and HostTensor keeps the wire bytes as they are, so typed access
// would need byte swapping on a big-endian host; no supported platform is one.
static_assert(std::endian::native == std::endian::little,
              "tensord client needs a little-endian host");

namespace tensord::client {

using DType = ::tensord::v1::DType;
inline constexpr DType kBool = ::tensord::v1::DT_BOOL;
inline constexpr DType kInt8 = ::tensord::v1::DT_INT8;
inline constexpr DType kInt16 = ::tensord::v1::DT_INT16;
inline constexpr DType kInt32 = ::tensord::v1::DT_INT32;
inline constexpr DType kInt64 = ::tensord::v1::DT_INT64;
inline constexpr DType kUInt8 = ::tensord::v1::DT_UINT8;
inline constexpr DType kUInt16 = ::tensord::v1::DT_UINT16;
inline constexpr DType kUInt32 = ::tensord::v1::DT_UINT32;
inline constexpr DType kUInt64 = ::tensord::v1::DT_UINT64;
inline constexpr DType kFloat16 = ::tensord::v1::DT_FLOAT16;
inline constexpr DType kFloat32 = ::tensord::v1::DT_FLOAT32;
inline constexpr DType kFloat64 = ::tensord::v1::DT_FLOAT64;

// Bytes per element; 0 for DT_INVALID or unknown values.
size_t DTypeSize(DType dtype);
// NumPy's name ("float32"); "invalid" for unknown values. A std::string because Debian's Abseil
// has its own string_view, which StrCat needs and std::string_view does not convert to.
const std::string& DTypeName(DType dtype);
absl::StatusOr<DType> ParseDType(std::string_view name);
bool IsFloat(DType dtype);
bool IsSignedInt(DType dtype);
bool IsUnsignedInt(DType dtype);
inline bool IsInteger(DType dtype) { return IsSignedInt(dtype) || IsUnsignedInt(dtype); }

// The DType matching a C++ element type (bool has no typed factory: std::vector<bool> is packed).
template <typename T>
constexpr DType DTypeOf() {
  if constexpr (std::is_same_v<T, float>)
    return kFloat32;
  else if constexpr (std::is_same_v<T, double>)
    return kFloat64;
  else if constexpr (std::is_same_v<T, int8_t>)
    return kInt8;
  else if constexpr (std::is_same_v<T, int16_t>)
    return kInt16;
  else if constexpr (std::is_same_v<T, int32_t>)
    return kInt32;
  else if constexpr (std::is_same_v<T, int64_t>)
    return kInt64;
  else if constexpr (std::is_same_v<T, uint8_t>)
    return kUInt8;
  else if constexpr (std::is_same_v<T, uint16_t>)
    return kUInt16;
  else if constexpr (std::is_same_v<T, uint32_t>)
    return kUInt32;
  else if constexpr (std::is_same_v<T, uint64_t>)
    return kUInt64;
  else
    static_assert(sizeof(T) == 0, "no tensord dtype for this C++ type");
}

// A dense C-order array on the host. The bytes are kept as a std::string so that they can be moved
// into and out of protobuf messages without copying (tensors may be up to the message limit).
class HostTensor {
 public:
  // An invalid tensor (dtype DT_INVALID); useful only as a placeholder.
  HostTensor() = default;

  // Checks that `bytes` holds exactly prod(shape) elements of `dtype`.
  static absl::StatusOr<HostTensor> FromBytes(DType dtype, std::vector<int64_t> shape,
                                              std::string bytes);
  // A tensor of zeros.
  static absl::StatusOr<HostTensor> Zeros(DType dtype, std::vector<int64_t> shape);

  template <typename T>
  static absl::StatusOr<HostTensor> FromVector(const std::vector<T>& values,
                                               std::vector<int64_t> shape) {
    std::string bytes(values.size() * sizeof(T), '\0');
    if (!values.empty()) std::memcpy(bytes.data(), values.data(), bytes.size());
    return FromBytes(DTypeOf<T>(), std::move(shape), std::move(bytes));
  }
  template <typename T>
  static HostTensor Scalar(T value) {
    return *FromVector<T>({value}, {});
  }
  template <typename T>
  static HostTensor Vector(const std::vector<T>& values) {
    return *FromVector<T>(values, {static_cast<int64_t>(values.size())});
  }
  // Rows must all have the same length.
  template <typename T>
  static absl::StatusOr<HostTensor> Matrix(const std::vector<std::vector<T>>& rows) {
    std::vector<T> flat;
    const size_t cols = rows.empty() ? 0 : rows[0].size();
    for (const auto& row : rows) {
      if (row.size() != cols) return absl::InvalidArgumentError("HostTensor::Matrix: ragged rows");
      flat.insert(flat.end(), row.begin(), row.end());
    }
    return FromVector<T>(flat, {static_cast<int64_t>(rows.size()), static_cast<int64_t>(cols)});
  }
  // One byte per element, 0 or 1, as NumPy stores bools.
  static absl::StatusOr<HostTensor> FromBools(const std::vector<bool>& values,
                                              std::vector<int64_t> shape);

  static absl::StatusOr<HostTensor> FromProto(const ::tensord::v1::Tensor& proto);
  static absl::StatusOr<HostTensor> FromProto(::tensord::v1::Tensor&& proto);
  ::tensord::v1::Tensor ToProto() const&;
  ::tensord::v1::Tensor ToProto() &&;

  bool valid() const { return dtype_ != ::tensord::v1::DT_INVALID; }
  DType dtype() const { return dtype_; }
  const std::vector<int64_t>& shape() const { return shape_; }
  int ndim() const { return static_cast<int>(shape_.size()); }
  int64_t num_elements() const;
  const std::string& bytes() const { return bytes_; }
  std::string& mutable_bytes() { return bytes_; }

  // The elements, when T matches the dtype exactly (no silent conversion).
  template <typename T>
  absl::StatusOr<std::vector<T>> ToVector() const {
    if (dtype_ != DTypeOf<T>()) {
      return absl::InvalidArgumentError(std::string("HostTensor::ToVector: tensor is ") +
                                        DTypeName(dtype_) + ", asked for " +
                                        DTypeName(DTypeOf<T>()));
    }
    std::vector<T> out(bytes_.size() / sizeof(T));
    if (!out.empty()) std::memcpy(out.data(), bytes_.data(), out.size() * sizeof(T));
    return out;
  }
  // The elements of any dtype converted to double (for printing and tests).
  std::vector<double> ToDoubles() const;
  // NumPy-like text: "[[1 2]\n [3 4]]"; large tensors are summarized.
  std::string DebugString() const;

  friend bool operator==(const HostTensor& a, const HostTensor& b) {
    return a.dtype_ == b.dtype_ && a.shape_ == b.shape_ && a.bytes_ == b.bytes_;
  }

 private:
  HostTensor(DType dtype, std::vector<int64_t> shape, std::string bytes)
      : dtype_(dtype), shape_(std::move(shape)), bytes_(std::move(bytes)) {}

  DType dtype_ = ::tensord::v1::DT_INVALID;
  std::vector<int64_t> shape_;
  std::string bytes_;
};

}  // namespace tensord::client

#endif  // TENSORD_CLIENT_TENSOR_H_
