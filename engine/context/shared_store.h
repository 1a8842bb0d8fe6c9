// A session's shared variables: values resident on a context between calls. Values are
// immutable once stored (a new value replaces the tensor), so readers take cheap snapshots.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <vector>

#include "engine/context/context.h"
#include "engine/ir/type.h"
#include "engine/runtime/byte_budget.h"
#include "engine/runtime/tensor.h"

namespace tensord::context {

using runtime::ByteBudget;
using runtime::Tensor;

class SharedVariable {
 public:
  SharedVariable(std::string id, std::string name, ir::Type type, const Context* context,
                 Tensor value)
      : id_(std::move(id)),
        name_(std::move(name)),
        type_(std::move(type)),
        context_(context),
        value_(std::move(value)) {}

  const std::string& id() const { return id_; }
  const std::string& name() const { return name_; }
  const ir::Type& type() const { return type_; }
  const Context* context() const { return context_; }

  Tensor Get() const {
    std::lock_guard<std::mutex> lock(mu_);
    return value_;
  }
  void Set(Tensor value) {
    std::lock_guard<std::mutex> lock(mu_);
    const int64_t delta =
        static_cast<int64_t>(value.num_bytes()) - static_cast<int64_t>(value_.num_bytes());
    runtime::Charge(budgets_, delta);
    value_ = std::move(value);
    if (store_changes_ != nullptr) store_changes_->fetch_add(1);
  }

  // Held for a whole run by functions that update this variable, so their read-compute-write
  // sequences do not interleave.
  std::mutex& update_mutex() { return update_mu_; }
  bool deleted() const { return deleted_; }
  void MarkDeleted() { deleted_ = true; }

 private:
  const std::string id_;
  const std::string name_;
  const ir::Type type_;
  friend class SharedStore;
  const Context* const context_;
  mutable std::mutex mu_;
  Tensor value_;
  // What the value is charged to (its store's budgets), kept current by Set; empty once the
  // variable leaves its store.
  runtime::ByteBudgets budgets_;
  // Its store's change count, which Set advances (null once the variable leaves its store).
  std::atomic<uint64_t>* store_changes_ = nullptr;
  std::mutex update_mu_;
  std::atomic<bool> deleted_{false};
};

class SharedStore {
 public:
  // Every value the store holds is charged to each of `budgets` (none: no accounting).
  explicit SharedStore(runtime::ByteBudgets budgets = {}) : budgets_(std::move(budgets)) {}
  // Credits the budgets with the values still held (a closed or expired session's).
  ~SharedStore();
  SharedStore(const SharedStore&) = delete;
  SharedStore& operator=(const SharedStore&) = delete;

  // RESOURCE_EXHAUSTED when the value would take one of the budgets past its limit.
  absl::StatusOr<std::shared_ptr<SharedVariable>> Create(std::string name, ir::Type type,
                                                         const Context* context, Tensor value);
  // A variable of a saved session (server/persistence.h) under its saved id, charged to the
  // budgets without checking them: a restored session keeps all it had. ALREADY_EXISTS when
  // the id is taken.
  absl::Status Restore(std::string id, std::string name, ir::Type type, const Context* context,
                       Tensor value);
  // N of the id the next Create hands out ("shared-N"): saved with a session and set again on
  // restoring it, so ids of variables deleted before the save are not handed out again.
  int64_t next_number() const;
  void set_next_number(int64_t n);
  absl::StatusOr<std::shared_ptr<SharedVariable>> Find(const std::string& id) const;
  absl::Status Delete(const std::string& id);
  std::vector<std::shared_ptr<SharedVariable>> List() const;
  size_t size() const;

  // Counts what a snapshot of the store would record differently: variables created (not
  // restored), deleted, or given a new value by anyone (SetShared, a run's updates). Kept here,
  // not by the callers, so that no future way of changing a value can forget it.
  uint64_t changes() const { return changes_.load(); }

  // RESOURCE_EXHAUSTED, naming the limit, when growing by `delta` bytes would pass a budget.
  absl::Status CheckGrowth(int64_t delta) const;

  // A run reads the values it uses under ReadLock and stores its updates under CommitLock, so
  // no run sees some of another run's updates and not the rest (a torn multi-variable update).
  // Both are held only while copying tensor handles, never while computing.
  std::shared_lock<std::shared_mutex> ReadLock() const {
    return std::shared_lock<std::shared_mutex>(commit_mu_);
  }
  std::unique_lock<std::shared_mutex> CommitLock() {
    return std::unique_lock<std::shared_mutex>(commit_mu_);
  }

 private:
  // Takes `var` out of accounting: its value is credited back to every budget.
  static void Detach(SharedVariable& var);
  std::shared_ptr<SharedVariable> InsertLocked(std::string id, std::string name, ir::Type type,
                                               const Context* context, Tensor value);

  mutable std::shared_mutex commit_mu_;
  const runtime::ByteBudgets budgets_;
  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<SharedVariable>> vars_;
  int64_t next_id_ = 1;
  std::atomic<uint64_t> changes_{0};
};

}  // namespace tensord::context
