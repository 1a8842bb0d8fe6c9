#include "engine/runtime/shared_store.h"

namespace tensord::runtime {

absl::StatusOr<std::shared_ptr<SharedVariable>> SharedStore::Create(std::string name, ir::Type type,
                                                                    const Context* context,
                                                                    Tensor value) {
  std::lock_guard<std::mutex> lock(mu_);
  const auto size = static_cast<int64_t>(value.num_bytes());
  TENSORD_RETURN_IF_ERROR(CheckGrowth(size));
  std::string id = absl::StrCat("shared-", next_id_++);
  auto var = std::make_shared<SharedVariable>(id, std::move(name), std::move(type), context,
                                              std::move(value));
  var->store_bytes_ = &bytes_;
  bytes_ += size;
  vars_[id] = var;
  return var;
}

absl::Status SharedStore::CheckGrowth(int64_t delta) const {
  if (byte_limit_ <= 0 || delta <= 0 || bytes_.load() + delta <= byte_limit_) {
    return absl::OkStatus();
  }
  return absl::ResourceExhaustedError(
      absl::StrCat("the session's shared variables would hold ", bytes_.load() + delta,
                   " bytes; the limit is ", byte_limit_, " (--max_shared_bytes_per_session)"));
}

absl::StatusOr<std::shared_ptr<SharedVariable>> SharedStore::Find(const std::string& id) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = vars_.find(id);
  if (it == vars_.end()) return NotFound("unknown shared variable '", id, "'");
  return it->second;
}

absl::Status SharedStore::Delete(const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = vars_.find(id);
  if (it == vars_.end()) return NotFound("unknown shared variable '", id, "'");
  it->second->MarkDeleted();
  {
    // Detached under its lock, so a Set racing with the delete cannot count into the store.
    std::lock_guard<std::mutex> value_lock(it->second->mu_);
    bytes_ -= static_cast<int64_t>(it->second->value_.num_bytes());
    it->second->store_bytes_ = nullptr;
  }
  vars_.erase(it);
  return absl::OkStatus();
}

std::vector<std::shared_ptr<SharedVariable>> SharedStore::List() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::shared_ptr<SharedVariable>> all;
  for (const auto& [id, v] : vars_) all.push_back(v);
  return all;
}

size_t SharedStore::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return vars_.size();
}

}  // namespace tensord::runtime
