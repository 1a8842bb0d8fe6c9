// A session's device arrays: the outputs its runs left on a device context (TensorRef on the
// wire, DeviceArray in the clients). Each stays resident, charged to its context's memory and to
// the session's byte budgets, until the client releases it or the session ends.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "engine/context/context.h"
#include "engine/runtime/byte_budget.h"
#include "engine/runtime/tensor.h"
#include "tensord/v1/tensor.pb.h"

namespace tensord::server {

struct DeviceArray {
  runtime::Tensor value;
  const context::Context* context = nullptr;
};

class DeviceArrayStore {
 public:
  explicit DeviceArrayStore(runtime::ByteBudgets budgets) : budgets_(std::move(budgets)) {}
  // Credits the budgets with the arrays still held (a closed or expired session's).
  ~DeviceArrayStore();
  DeviceArrayStore(const DeviceArrayStore&) = delete;
  DeviceArrayStore& operator=(const DeviceArrayStore&) = delete;

  // RESOURCE_EXHAUSTED, naming the limit, when holding `bytes` more would pass a budget.
  absl::Status CheckRoom(int64_t bytes) const;
  // Describes `array` as the wire's TensorRef under a new unguessable id ("da-" and 128 random
  // bits). May throw, so a run does it before it stores its updates.
  static void Describe(const DeviceArray& array, v1::TensorRef* ref);
  // Holds `array` under ref.id() (from Describe); CheckRoom first. What a run does after its
  // updates are stored: nothing but the map insertion can fail (out of memory).
  void Hold(const v1::TensorRef& ref, DeviceArray array);
  // NOT_FOUND for an id this session does not hold (released, or another session's).
  absl::StatusOr<DeviceArray> Find(const std::string& id) const;
  // All or nothing: NOT_FOUND naming the first unknown id, and then none is released; or, with
  // `ignore_unknown`, releases the ids it holds.
  absl::Status Release(const std::vector<std::string>& ids, bool ignore_unknown = false);
  size_t size() const;

 private:
  const runtime::ByteBudgets budgets_;
  mutable std::mutex mu_;
  std::map<std::string, DeviceArray> arrays_;
};

}  // namespace tensord::server
