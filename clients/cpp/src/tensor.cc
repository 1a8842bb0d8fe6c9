#include "tensord/tensor.h"

#include <cmath>
#include <cstdio>
#include <limits>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace tensord::client {
namespace {

struct DTypeRow {
  DType dtype;
  const char* name;
  size_t size;
};

constexpr DTypeRow kDTypes[] = {
    {kBool, "bool", 1},       {kInt8, "int8", 1},       {kInt16, "int16", 2},
    {kInt32, "int32", 4},     {kInt64, "int64", 8},     {kUInt8, "uint8", 1},
    {kUInt16, "uint16", 2},   {kUInt32, "uint32", 4},   {kUInt64, "uint64", 8},
    {kFloat16, "float16", 2}, {kFloat32, "float32", 4}, {kFloat64, "float64", 8},
};

const DTypeRow* FindRow(DType dtype) {
  for (const DTypeRow& row : kDTypes) {
    if (row.dtype == dtype) return &row;
  }
  return nullptr;
}

// IEEE half -> double, so float16 tensors can be printed without a half type.
double HalfToDouble(uint16_t h) {
  const int sign = (h >> 15) ? -1 : 1;
  const int exponent = (h >> 10) & 0x1f;
  const int mantissa = h & 0x3ff;
  if (exponent == 0) return sign * std::ldexp(mantissa, -24);
  if (exponent == 31) {
    return mantissa ? std::numeric_limits<double>::quiet_NaN()
                    : sign * std::numeric_limits<double>::infinity();
  }
  return sign * std::ldexp(mantissa + 1024, exponent - 25);
}

template <typename T>
double Load(const char* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return static_cast<double>(v);
}

absl::StatusOr<int64_t> CountElements(const std::vector<int64_t>& shape) {
  int64_t n = 1;
  for (int64_t d : shape) {
    if (d < 0) return absl::InvalidArgumentError(absl::StrCat("negative dimension ", d));
    // A shape whose product overflows cannot describe a buffer that fits in a message anyway.
    if (d != 0 && n > std::numeric_limits<int64_t>::max() / d) {
      return absl::InvalidArgumentError("shape has too many elements");
    }
    n *= d;
  }
  return n;
}

void AppendElement(const HostTensor& t, double v, std::string* out) {
  if (t.dtype() == kBool) {
    out->append(v != 0 ? "True" : "False");
  } else if (IsFloat(t.dtype())) {
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%.6g", v);
    out->append(buf);
  } else {
    // Integers up to 2^53 print exactly; larger ones are rare in printed output.
    absl::StrAppend(out, static_cast<int64_t>(v));
  }
}

void AppendNested(const HostTensor& t, const std::vector<double>& values, int dim, int64_t* pos,
                  std::string* out) {
  if (dim == t.ndim()) {
    AppendElement(t, values[(*pos)++], out);
    return;
  }
  out->push_back('[');
  for (int64_t i = 0; i < t.shape()[dim]; ++i) {
    if (i > 0) {
      out->append(dim + 1 == t.ndim() ? " " : "\n");
      if (dim + 1 < t.ndim()) out->append(dim + 1, ' ');
    }
    AppendNested(t, values, dim + 1, pos, out);
  }
  out->push_back(']');
}

}  // namespace

size_t DTypeSize(DType dtype) {
  const DTypeRow* row = FindRow(dtype);
  return row ? row->size : 0;
}

const std::string& DTypeName(DType dtype) {
  // Built once; names outlive every caller.
  static const auto* names = [] {
    auto* m = new std::map<DType, std::string>();
    for (const DTypeRow& row : kDTypes) (*m)[row.dtype] = row.name;
    return m;
  }();
  static const std::string* invalid = new std::string("invalid");
  auto it = names->find(dtype);
  return it == names->end() ? *invalid : it->second;
}

absl::StatusOr<DType> ParseDType(std::string_view name) {
  for (const DTypeRow& row : kDTypes) {
    if (std::string_view(row.name) == name) return row.dtype;
  }
  return absl::InvalidArgumentError(absl::StrCat("unknown dtype '", std::string(name), "'"));
}

bool IsFloat(DType d) { return d == kFloat16 || d == kFloat32 || d == kFloat64; }
bool IsSignedInt(DType d) { return d == kInt8 || d == kInt16 || d == kInt32 || d == kInt64; }
bool IsUnsignedInt(DType d) { return d == kUInt8 || d == kUInt16 || d == kUInt32 || d == kUInt64; }

absl::StatusOr<HostTensor> HostTensor::FromBytes(DType dtype, std::vector<int64_t> shape,
                                                 std::string bytes) {
  const size_t size = DTypeSize(dtype);
  if (size == 0) {
    return absl::InvalidArgumentError(absl::StrCat("invalid dtype ", static_cast<int>(dtype)));
  }
  absl::StatusOr<int64_t> n = CountElements(shape);
  if (!n.ok()) return n.status();
  if (static_cast<uint64_t>(*n) * size != bytes.size()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "tensor of dtype ", DTypeName(dtype), " and shape [", absl::StrJoin(shape, ","), "] needs ",
        static_cast<uint64_t>(*n) * size, " bytes, got ", bytes.size()));
  }
  return HostTensor(dtype, std::move(shape), std::move(bytes));
}

absl::StatusOr<HostTensor> HostTensor::Zeros(DType dtype, std::vector<int64_t> shape) {
  absl::StatusOr<int64_t> n = CountElements(shape);
  if (!n.ok()) return n.status();
  return FromBytes(dtype, std::move(shape), std::string(*n * DTypeSize(dtype), '\0'));
}

absl::StatusOr<HostTensor> HostTensor::FromBools(const std::vector<bool>& values,
                                                 std::vector<int64_t> shape) {
  std::string bytes(values.size(), '\0');
  for (size_t i = 0; i < values.size(); ++i) bytes[i] = values[i] ? 1 : 0;
  return FromBytes(kBool, std::move(shape), std::move(bytes));
}

absl::StatusOr<HostTensor> HostTensor::FromProto(const ::tensord::v1::Tensor& proto) {
  return FromBytes(proto.dtype(), {proto.shape().begin(), proto.shape().end()}, proto.data());
}

absl::StatusOr<HostTensor> HostTensor::FromProto(::tensord::v1::Tensor&& proto) {
  std::string bytes = std::move(*proto.mutable_data());
  return FromBytes(proto.dtype(), {proto.shape().begin(), proto.shape().end()}, std::move(bytes));
}

::tensord::v1::Tensor HostTensor::ToProto() const& {
  ::tensord::v1::Tensor proto;
  proto.set_dtype(dtype_);
  proto.mutable_shape()->Add(shape_.begin(), shape_.end());
  proto.set_data(bytes_);
  return proto;
}

::tensord::v1::Tensor HostTensor::ToProto() && {
  ::tensord::v1::Tensor proto;
  proto.set_dtype(dtype_);
  proto.mutable_shape()->Add(shape_.begin(), shape_.end());
  proto.set_data(std::move(bytes_));
  return proto;
}

int64_t HostTensor::num_elements() const {
  const size_t size = DTypeSize(dtype_);
  return size == 0 ? 0 : static_cast<int64_t>(bytes_.size() / size);
}

std::vector<double> HostTensor::ToDoubles() const {
  std::vector<double> out;
  const size_t size = DTypeSize(dtype_);
  if (size == 0) return out;
  out.reserve(bytes_.size() / size);
  for (size_t off = 0; off + size <= bytes_.size(); off += size) {
    const char* p = bytes_.data() + off;
    switch (dtype_) {
      case kBool:
        out.push_back(p[0] != 0 ? 1.0 : 0.0);
        break;
      case kInt8:
        out.push_back(Load<int8_t>(p));
        break;
      case kInt16:
        out.push_back(Load<int16_t>(p));
        break;
      case kInt32:
        out.push_back(Load<int32_t>(p));
        break;
      case kInt64:
        out.push_back(Load<int64_t>(p));
        break;
      case kUInt8:
        out.push_back(Load<uint8_t>(p));
        break;
      case kUInt16:
        out.push_back(Load<uint16_t>(p));
        break;
      case kUInt32:
        out.push_back(Load<uint32_t>(p));
        break;
      case kUInt64:
        out.push_back(Load<uint64_t>(p));
        break;
      case kFloat16: {
        uint16_t h;
        std::memcpy(&h, p, 2);
        out.push_back(HalfToDouble(h));
        break;
      }
      case kFloat32:
        out.push_back(Load<float>(p));
        break;
      case kFloat64:
        out.push_back(Load<double>(p));
        break;
      default:
        return {};
    }
  }
  return out;
}

std::string HostTensor::DebugString() const {
  if (!valid()) return "HostTensor<invalid>";
  // Printing millions of elements helps nobody; show the type instead.
  constexpr int64_t kMaxPrinted = 1000;
  if (num_elements() > kMaxPrinted) {
    return absl::StrCat("HostTensor<", DTypeName(dtype_), ">[", absl::StrJoin(shape_, ","), "] (",
                        num_elements(), " elements)");
  }
  std::string out;
  int64_t pos = 0;
  AppendNested(*this, ToDoubles(), 0, &pos, &out);
  return out;
}

}  // namespace tensord::client
