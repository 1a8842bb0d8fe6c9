#include "engine/context/context.h"

#include <map>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "engine/backends/cuda/device.h"

namespace tensord::context {
namespace {

// Theano's device flag names the first device of a kind without a number.
std::string NumberedDevice(const std::string& device) {
  return device == "cuda" ? "cuda0" : device == "sim" ? "sim0" : device == "emu" ? "emu0" : device;
}

// The N of `device` "<kind>N" (0 for a bare "<kind>"); INVALID_ARGUMENT saying what was
// `expected` otherwise.
absl::StatusOr<int> OrdinalOf(const std::string& device, absl::string_view kind,
                              absl::string_view expected) {
  absl::string_view digits = absl::StripPrefix(device, kind);
  int ordinal = 0;
  if (!digits.empty() && !absl::SimpleAtoi(digits, &ordinal)) {
    return InvalidArgument("bad device '", device, "' (expected ", expected, ")");
  }
  return ordinal;
}

}  // namespace

absl::StatusOr<Context*> ContextRegistry::AddDevice(const std::string& name,
                                                    const std::string& device, bool optional) {
  for (const auto& c : contexts_)
    if (c->name == name) return InvalidArgument("context '", name, "' is defined twice");
  auto ctx = std::make_unique<Context>();
  ctx->name = name;
  ctx->device = device;
  ctx->memory = runtime::MemoryCounterFor(name);
  if (device == "cpu") {
    ctx->kind = DeviceKind::kCpu;
    ctx->description = absl::StrCat("host CPU, ", std::thread::hardware_concurrency(), " threads");
  } else if (absl::StartsWith(device, "cuda")) {
    TENSORD_ASSIGN_OR_RETURN(int ordinal, OrdinalOf(device, "cuda", "cpu, cuda or cudaN"));
    int count = cuda::DeviceCount();
    ctx->kind = DeviceKind::kCuda;
    ctx->ordinal = ordinal;
    ctx->device = absl::StrCat("cuda", ordinal);
    if (ordinal >= count) {
      std::string why = absl::StrCat("this server sees ", count, " CUDA device(s)",
                                     cuda::Available() ? "" : " (built without CUDA)");
      if (!optional) {
        return FailedPrecondition("context '", name, "' maps to ", device, " but ", why,
                                  " (--contexts_optional lists it as unavailable instead)");
      }
      ctx->unavailable = std::move(why);
      ctx->description = absl::StrCat("unavailable: ", ctx->unavailable);
    } else {
      ctx->description = cuda::DeviceName(ordinal);
      ctx->runtime = cuda::GpuRuntime(ordinal);
    }
  } else if (absl::StartsWith(device, "emu")) {
    TENSORD_ASSIGN_OR_RETURN(int ordinal, OrdinalOf(device, "emu", "emu or emuN"));
    ctx->kind = DeviceKind::kCuda;
    ctx->ordinal = ordinal;
    ctx->emulated = true;
    ctx->device = absl::StrCat("emu", ordinal);
    ctx->runtime = cuda::EmulatedRuntime();
    ctx->description =
        absl::StrCat("CUDA emulated on the host CPU ", ordinal,
                     " (the CUDA provider's kernels, built by the host's C++ compiler; for tests)");
  } else if (absl::StartsWith(device, "sim")) {
    TENSORD_ASSIGN_OR_RETURN(int ordinal, OrdinalOf(device, "sim", "sim or simN"));
    ctx->kind = DeviceKind::kSim;
    ctx->ordinal = ordinal;
    ctx->device = absl::StrCat("sim", ordinal);
    ctx->description = absl::StrCat("simulated device ", ordinal,
                                    " (host memory and CPU kernels, reached through transfers)");
  } else {
    return InvalidArgument("bad device '", device, "' for context '", name,
                           "' (expected cpu, cuda, cudaN, sim, simN, emu or emuN)");
  }
  ctx->memory->SetDevice(ctx->is_device());
  ctx->memory->SetBlockSource(nullptr);  // a registry before this one may have set one
  contexts_.push_back(std::move(ctx));
  return contexts_.back().get();
}

absl::Status ContextRegistry::SetUpDeviceMemory(const DeviceMemoryOptions& options) {
  std::map<std::string, std::shared_ptr<DeviceBlocks>> by_device;
  for (const auto& c : contexts_) {
    if (!c->is_device() || !c->unavailable.empty()) continue;
    auto& blocks = by_device[c->device];
    if (blocks == nullptr) {
      std::unique_ptr<cuda::DeviceMemory> memory =
          c->kind == DeviceKind::kSim || c->emulated
              ? std::make_unique<cuda::SimulatedDeviceMemory>(
                    static_cast<size_t>(options.simulated_device_bytes),
                    // The emulator's memory is a GPU's to the server: reached through copies.
                    options.simulated_memory_separate || c->emulated)
              : cuda::DeviceMemoryOf(c->ordinal);
      if (memory == nullptr) return Internal("no memory for ", c->device);  // it was seen above
      std::string log;
      TENSORD_ASSIGN_OR_RETURN(blocks,
                               DeviceBlocks::Create(std::move(memory), c->device, options, &log));
      if (!log.empty()) memory_log_.push_back(std::move(log));
    }
    c->blocks = blocks;
    c->memory->SetBlockSource(blocks);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<ContextRegistry>> ContextRegistry::Create(
    const std::string& contexts, const std::string& default_device, bool optional,
    const DeviceMemoryOptions& memory) {
  auto reg = std::unique_ptr<ContextRegistry>(new ContextRegistry());
  TENSORD_RETURN_IF_ERROR(reg->AddDevice("cpu", "cpu", optional).status());
  for (absl::string_view entry : absl::StrSplit(contexts, ';', absl::SkipWhitespace())) {
    std::vector<std::string> parts = absl::StrSplit(entry, "->");
    if (parts.size() != 2 || parts[0].empty() || parts[1].empty()) {
      return InvalidArgument("bad contexts entry '", entry, "' (expected name->device)");
    }
    if (parts[0] == "cpu") return InvalidArgument("the context name 'cpu' is reserved");
    TENSORD_RETURN_IF_ERROR(reg->AddDevice(parts[0], parts[1], optional).status());
  }
  std::string dev = default_device.empty() ? "cpu" : default_device;
  // A context name, or a device a context already maps to (device=cuda0 with dev0->cuda0: one
  // device, so one context and one memory).
  if (int i = reg->IndexOf(dev); i >= 0) {
    reg->default_index_ = i;
  } else {
    // `device=cuda0` without a contexts entry: Theano names that default context None; we call
    // it by its device name.
    TENSORD_RETURN_IF_ERROR(reg->AddDevice(dev, NumberedDevice(dev), optional).status());
    reg->default_index_ = reg->contexts_.size() - 1;
  }
  TENSORD_RETURN_IF_ERROR(reg->SetUpDeviceMemory(memory));
  return reg;
}

int ContextRegistry::IndexOf(const std::string& name_or_device) const {
  for (size_t i = 0; i < contexts_.size(); ++i)
    if (contexts_[i]->name == name_or_device) return static_cast<int>(i);
  const std::string device = NumberedDevice(name_or_device);
  for (size_t i = 0; i < contexts_.size(); ++i)
    if (contexts_[i]->device == device) return static_cast<int>(i);
  return -1;
}

absl::StatusOr<const Context*> ContextRegistry::FindNameOrDevice(
    const std::string& name_or_device) const {
  const int i = name_or_device.empty() ? -1 : IndexOf(name_or_device);
  return Find(i < 0 ? name_or_device : contexts_[i]->name);
}

absl::StatusOr<const Context*> ContextRegistry::Find(const std::string& name) const {
  const Context* found = name.empty() ? &default_context() : nullptr;
  for (const auto& c : contexts_)
    if (c->name == name) found = c.get();
  if (found != nullptr) {
    if (found->unavailable.empty()) return found;
    return FailedPrecondition("context '", found->name, "' (", found->device,
                              ") is unavailable: ", found->unavailable);
  }
  return FailedPrecondition("unknown context '", name, "' (this server has: ", Names(), ")");
}

std::string ContextRegistry::Names() const {
  std::string known;
  for (const auto& c : contexts_) absl::StrAppend(&known, known.empty() ? "" : ", ", c->name);
  return known;
}

}  // namespace tensord::context
