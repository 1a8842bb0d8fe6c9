// Status helpers: Debian's Abseil 20220623 has no status_macros.h, so we carry our own.
#pragma once

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"

#define TENSORD_CONCAT_INNER(a, b) a##b
#define TENSORD_CONCAT(a, b) TENSORD_CONCAT_INNER(a, b)

// Returns from the enclosing function when `expr` (an absl::Status) is not OK.
#define TENSORD_RETURN_IF_ERROR(expr)                  \
  do {                                                 \
    ::absl::Status _tensord_status = (expr);           \
    if (!_tensord_status.ok()) return _tensord_status; \
  } while (0)

// `TENSORD_ASSIGN_OR_RETURN(auto x, MakeX());` unwraps a StatusOr or returns its error.
// It expands to several statements: never use it as the body of a brace-less if/for/while.
#define TENSORD_ASSIGN_OR_RETURN(lhs, rexpr) \
  TENSORD_ASSIGN_OR_RETURN_IMPL(TENSORD_CONCAT(_tensord_statusor_, __LINE__), lhs, rexpr)
#define TENSORD_ASSIGN_OR_RETURN_IMPL(tmp, lhs, rexpr) \
  auto tmp = (rexpr);                                  \
  if (!tmp.ok()) return std::move(tmp).status();       \
  lhs = std::move(tmp).value()

namespace tensord {

template <typename... Args>
absl::Status InvalidArgument(const Args&... args) {
  return absl::InvalidArgumentError(absl::StrCat(args...));
}
template <typename... Args>
absl::Status NotFound(const Args&... args) {
  return absl::NotFoundError(absl::StrCat(args...));
}
template <typename... Args>
absl::Status FailedPrecondition(const Args&... args) {
  return absl::FailedPreconditionError(absl::StrCat(args...));
}
template <typename... Args>
absl::Status Unimplemented(const Args&... args) {
  return absl::UnimplementedError(absl::StrCat(args...));
}
template <typename... Args>
absl::Status ResourceExhausted(const Args&... args) {
  return absl::ResourceExhaustedError(absl::StrCat(args...));
}
template <typename... Args>
absl::Status Internal(const Args&... args) {
  return absl::InternalError(absl::StrCat(args...));
}

}  // namespace tensord
