// What every execution provider implements per node: a Kernel. The op schema (engine/ops/) says
// what an op computes; providers (engine/backends/<name>/) say how, one kernel factory per op.
#pragma once

#include <functional>
#include <memory>
#include <span>
#include <string>
#include <type_traits>
#include <unordered_map>
#include <vector>

#include "engine/common/status.h"
#include "engine/ir/graph.h"
#include "engine/runtime/tensor.h"

namespace tensord::backends {

// A kernel bound to one apply node at compile time: attributes are parsed once, so Run only
// computes output shapes and data. Outputs arrive as the frame's slots; a kernel sizes them
// with Tensor::Reshape (which reuses their buffers) or makes them views of an input.
class Kernel {
 public:
  virtual ~Kernel() = default;
  virtual absl::Status Run(std::span<const runtime::Tensor* const> inputs,
                           std::span<runtime::Tensor* const> outputs) = 0;
};

using MakeKernelFn = std::function<absl::StatusOr<std::unique_ptr<Kernel>>(const ir::Apply&)>;

// A provider's kernel factories by op name. Adding a factory for an op the registry does not
// know, or a second one, aborts: a misspelt name fails every test instead of hiding.
class KernelTable {
 public:
  void Add(const std::string& op, MakeKernelFn make);
  const MakeKernelFn* Find(const std::string& op) const;

 private:
  std::unordered_map<std::string, MakeKernelFn> by_op_;
};

// A factory for a kernel class constructed from its node, or by default.
template <typename K>
MakeKernelFn Make() {
  return [](const ir::Apply& node) -> absl::StatusOr<std::unique_ptr<Kernel>> {
    if constexpr (std::is_constructible_v<K, const ir::Apply&>) {
      return std::unique_ptr<Kernel>(new K(node));
    } else {
      return std::unique_ptr<Kernel>(new K());
    }
  };
}

}  // namespace tensord::backends
