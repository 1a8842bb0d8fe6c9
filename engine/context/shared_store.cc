#include "engine/context/shared_store.h"

#include <algorithm>

namespace tensord::context {

absl::StatusOr<std::shared_ptr<SharedVariable>> SharedStore::Create(std::string name, ir::Type type,
                                                                    const Context* context,
                                                                    Tensor value) {
  std::lock_guard<std::mutex> lock(mu_);
  TENSORD_RETURN_IF_ERROR(CheckGrowth(static_cast<int64_t>(value.num_bytes())));
  changes_.fetch_add(1);
  return InsertLocked(absl::StrCat("shared-", next_id_++), std::move(name), std::move(type),
                      context, std::move(value));
}

absl::Status SharedStore::Restore(std::string id, std::string name, ir::Type type,
                                  const Context* context, Tensor value) {
  std::lock_guard<std::mutex> lock(mu_);
  if (vars_.count(id) != 0) {
    return absl::AlreadyExistsError(absl::StrCat("shared variable '", id, "' twice"));
  }
  InsertLocked(std::move(id), std::move(name), std::move(type), context, std::move(value));
  return absl::OkStatus();
}

std::shared_ptr<SharedVariable> SharedStore::InsertLocked(std::string id, std::string name,
                                                          ir::Type type, const Context* context,
                                                          Tensor value) {
  const auto size = static_cast<int64_t>(value.num_bytes());
  auto var = std::make_shared<SharedVariable>(id, std::move(name), std::move(type), context,
                                              std::move(value));
  var->budgets_ = budgets_;
  var->store_changes_ = &changes_;
  runtime::Charge(budgets_, size);
  vars_[id] = var;
  return var;
}

int64_t SharedStore::next_number() const {
  std::lock_guard<std::mutex> lock(mu_);
  return next_id_;
}

void SharedStore::set_next_number(int64_t n) {
  std::lock_guard<std::mutex> lock(mu_);
  next_id_ = std::max(next_id_, n);
}

SharedStore::~SharedStore() {
  for (auto& [id, var] : vars_) Detach(*var);
}

void SharedStore::Detach(SharedVariable& var) {
  // Under the value's lock, so a Set racing with the detach charges nothing afterwards.
  std::lock_guard<std::mutex> value_lock(var.mu_);
  runtime::Charge(var.budgets_, -static_cast<int64_t>(var.value_.num_bytes()));
  var.budgets_.clear();
  var.store_changes_ = nullptr;  // the store may go before the variable
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
  changes_.fetch_add(1);
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
