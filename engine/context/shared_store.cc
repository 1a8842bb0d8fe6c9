#include "engine/context/shared_store.h"

namespace tensord::context {

absl::StatusOr<std::shared_ptr<SharedVariable>> SharedStore::Create(std::string name, ir::Type type,
                                                                    const Context* context,
                                                                    Tensor value) {
  std::lock_guard<std::mutex> lock(mu_);
  const auto size = static_cast<int64_t>(value.num_bytes());
  TENSORD_RETURN_IF_ERROR(CheckGrowth(size));
  std::string id = absl::StrCat("shared-", next_id_++);
  auto var = std::make_shared<SharedVariable>(id, std::move(name), std::move(type), context,
                                              std::move(value));
  var->budgets_ = budgets_;
  runtime::Charge(budgets_, size);
  vars_[id] = var;
  return var;
}

SharedStore::~SharedStore() {
  for (auto& [id, var] : vars_) Detach(*var);
}

void SharedStore::Detach(SharedVariable& var) {
  // Under the value's lock, so a Set racing with the detach charges nothing afterwards.
  std::lock_guard<std::mutex> value_lock(var.mu_);
  runtime::Charge(var.budgets_, -static_cast<int64_t>(var.value_.num_bytes()));
  var.budgets_.clear();
}

absl::Status SharedStore::CheckGrowth(int64_t delta) const {
  return runtime::CheckGrowth(budgets_, delta);
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
  Detach(*it->second);
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

}  // namespace tensord::context
