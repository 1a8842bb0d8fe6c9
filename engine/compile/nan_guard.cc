#include "engine/compile/nan_guard.h"

#include <cmath>
#include <cstdio>

#include "absl/strings/str_join.h"
#include "engine/backends/cpu/broadcast.h"

namespace tensord::compile {
namespace {

// C-order position `flat` of `shape` as "3" (vectors) or "(1, 2)".
std::string IndexString(int64_t flat, const runtime::Shape& shape) {
  if (shape.size() == 1) return absl::StrCat(flat);
  std::vector<int64_t> index(shape.size());
  for (size_t d = shape.size(); d-- > 0;) {
    index[d] = flat % shape[d];
    flat /= shape[d];
  }
  return absl::StrCat("(", absl::StrJoin(index, ", "), index.size() == 1 ? ",)" : ")");
}

// What is wrong with `v`, or nullptr when nothing is.
const char* Problem(double v, const NanGuardOptions& o) {
  if (std::isnan(v)) return o.nan_is_error ? "nan" : nullptr;
  if (std::isinf(v)) return o.inf_is_error ? (v > 0 ? "inf" : "-inf") : nullptr;
  if (o.big_is_error && std::fabs(v) > o.big_threshold) return "a big value";
  return nullptr;
}

template <typename T>
absl::Status Check(const NanGuardOptions& o, const std::string& label, int output, int outputs,
                   const runtime::Tensor& t) {
  const T* base = t.data<T>();
  const int64_t inner_stride = t.ndim() == 0 ? 0 : t.strides().back();
  int64_t bad = -1;
  const char* what = nullptr;
  double value = 0;
  // Rows in C order: the first bad element found is the first in C order.
  cpu::ForEachRow(t.shape(), {t.strides()}, [&](int64_t n, int64_t out, const int64_t* in) {
    if (bad >= 0) return;
    const T* row = base + in[0];
    for (int64_t i = 0; i < n; ++i) {
      const double v = static_cast<double>(row[i * inner_stride]);
      // One comparison per element on the clean path: finite values below the threshold.
      if (std::fabs(v) <= o.big_threshold) continue;
      if (const char* p = Problem(v, o)) {
        bad = out + i;
        what = p;
        value = v;
        return;
      }
    }
  });
  if (bad < 0) return absl::OkStatus();
  std::string where = outputs > 1 ? absl::StrCat(" in output ", output) : "";
  std::string detail;
  if (std::string_view(what) == "a big value") {
    char buf[64];
    std::snprintf(buf, sizeof(buf), " %g (abs > %g)", value, o.big_threshold);
    detail = buf;
  }
  return InvalidArgument("NanGuardMode: ", label, " produced ", what, detail, where, " at index ",
                         IndexString(bad, t.shape()), " (shape ", runtime::ShapeString(t.shape()),
                         ")");
}

}  // namespace

absl::Status CheckNanGuard(const NanGuardOptions& options, const std::string& label,
                           std::span<runtime::Tensor* const> outputs) {
  const int n = static_cast<int>(outputs.size());
  for (int k = 0; k < n; ++k) {
    if (!outputs[k]->buffer()) continue;
    TENSORD_ASSIGN_OR_RETURN(runtime::Tensor t, runtime::OnHost(*outputs[k]));  // a GPU's?
    if (t.dtype() == DType::kFloat32) {
      TENSORD_RETURN_IF_ERROR(Check<float>(options, label, k, n, t));
    } else if (t.dtype() == DType::kFloat64) {
      TENSORD_RETURN_IF_ERROR(Check<double>(options, label, k, n, t));
    }
  }
  return absl::OkStatus();
}

}  // namespace tensord::compile
