#include "engine/runtime/shared_store.h"

namespace tensord::runtime {

std::shared_ptr<SharedVariable> SharedStore::Create(std::string name, ir::Type type,
                                                    const Context* context, Tensor value) {
  std::lock_guard<std::mutex> lock(mu_);
  std::string id = absl::StrCat("shared-", next_id_++);
  auto var = std::make_shared<SharedVariable>(id, std::move(name), std::move(type), context,
                                              std::move(value));
  vars_[id] = var;
  return var;
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
