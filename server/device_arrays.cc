#include "server/device_arrays.h"

#include "engine/common/status.h"
#include "server/random_id.h"

namespace tensord::server {
namespace {

int64_t Bytes(const DeviceArray& a) { return static_cast<int64_t>(a.value.num_bytes()); }

absl::Status Unknown(const std::string& id) {
  return NotFound("device array '", id,
                  "' is not held by this session (released, or another session's)");
}

}  // namespace

DeviceArrayStore::~DeviceArrayStore() {
  for (const auto& [id, array] : arrays_) runtime::Charge(budgets_, -Bytes(array));
}

absl::Status DeviceArrayStore::CheckRoom(int64_t bytes) const {
  return runtime::CheckGrowth(budgets_, bytes);
}

void DeviceArrayStore::Describe(const DeviceArray& array, v1::TensorRef* ref) {
  ref->set_id(absl::StrCat("da-", RandomId()));
  ref->set_context(array.context->name);
  ref->set_dtype(static_cast<v1::DType>(array.value.dtype()));
  for (int64_t d : array.value.shape()) ref->add_shape(d);
}

void DeviceArrayStore::Hold(const v1::TensorRef& ref, DeviceArray array) {
  const int64_t bytes = Bytes(array);
  {
    std::lock_guard<std::mutex> lock(mu_);
    arrays_.emplace(ref.id(), std::move(array));
  }
  runtime::Charge(budgets_, bytes);  // once held, never before
}

absl::StatusOr<DeviceArray> DeviceArrayStore::Find(const std::string& id) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = arrays_.find(id);
  if (it == arrays_.end()) return Unknown(id);
  return it->second;
}

absl::Status DeviceArrayStore::Release(const std::vector<std::string>& ids, bool ignore_unknown) {
  if (ids.empty()) return absl::OkStatus();  // every Run asks; most release nothing
  std::vector<DeviceArray> released;         // freed after the lock is dropped
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const std::string& id : ids)
      if (!ignore_unknown && !arrays_.contains(id)) return Unknown(id);
    for (const std::string& id : ids) {
      auto it = arrays_.find(id);
      if (it == arrays_.end()) continue;  // unknown, or named twice
      released.push_back(std::move(it->second));
      arrays_.erase(it);
    }
  }
  for (const DeviceArray& array : released) runtime::Charge(budgets_, -Bytes(array));
  return absl::OkStatus();
}

size_t DeviceArrayStore::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return arrays_.size();
}

}  // namespace tensord::server
