// Bytes held against a limit, charged by whoever holds them: a session's shared variables
// (--max_shared_bytes_per_session) and all the shared variables of one tenant's sessions
// (--tenant_memory_quota) are two budgets that every shared value is charged to.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/common/status.h"

namespace tensord::runtime {

class ByteBudget {
 public:
  // `holder` and `flag` name it in errors: "tenant 'ops''s shared variables", "--tenant_...".
  // A limit of 0 or less is none.
  ByteBudget(int64_t limit, std::string holder, std::string flag)
      : limit_(limit), holder_(std::move(holder)), flag_(std::move(flag)) {}

  int64_t bytes() const { return bytes_.load(); }
  void Charge(int64_t delta) { bytes_ += delta; }
  // RESOURCE_EXHAUSTED naming the holder, the total and the flag when growing by `delta` would
  // pass the limit (a check, not a reservation: concurrent writers may each overshoot by one
  // value).
  absl::Status CheckGrowth(int64_t delta) const {
    const int64_t total = bytes_.load() + delta;
    if (limit_ <= 0 || delta <= 0 || total <= limit_) return absl::OkStatus();
    return absl::ResourceExhaustedError(absl::StrCat(
        holder_, " would hold ", total, " bytes; the limit is ", limit_, " (", flag_, ")"));
  }

 private:
  std::atomic<int64_t> bytes_{0};
  const int64_t limit_;
  const std::string holder_;
  const std::string flag_;
};

// The budgets one resident value is charged to (its session's, its tenant's), each charged or
// checked alike.
using ByteBudgets = std::vector<std::shared_ptr<ByteBudget>>;

inline void Charge(const ByteBudgets& budgets, int64_t delta) {
  for (const auto& budget : budgets) budget->Charge(delta);
}

// The first budget's refusal when growing by `delta` would pass one of them.
inline absl::Status CheckGrowth(const ByteBudgets& budgets, int64_t delta) {
  for (const auto& budget : budgets) TENSORD_RETURN_IF_ERROR(budget->CheckGrowth(delta));
  return absl::OkStatus();
}

}  // namespace tensord::runtime
