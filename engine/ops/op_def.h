// One OpDef row per op: wire name, arity, type inference and kernels per backend.
#pragma once

#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "engine/common/status.h"
#include "engine/ir/graph.h"
#include "engine/runtime/tensor.h"

namespace tensord::ops {

// A kernel bound to one apply node at compile time: attributes are parsed once, so Run only
// computes output shapes and data. Outputs arrive as the frame's slots; a kernel sizes them
// with Tensor::Reshape (which reuses their buffers) or makes them views of an input.
class Kernel {
 public:
  virtual ~Kernel() = default;
  virtual absl::Status Run(std::span<const runtime::Tensor* const> inputs,
                           std::span<runtime::Tensor* const> outputs) = 0;
};

using InferTypesFn = std::function<absl::StatusOr<std::vector<ir::Type>>(const ir::Apply&)>;
using MakeKernelFn = std::function<absl::StatusOr<std::unique_ptr<Kernel>>(const ir::Apply&)>;

struct OpDef {
  std::string name;
  int min_inputs = 1;
  int max_inputs = 1;  // -1: any number
  std::string doc;     // signature and NumPy equivalent, for docs/ops.md
  InferTypesFn infer_types;
  // Elementwise-style ops compute in their output dtype: the compiler casts inputs to it
  // first, so their kernels only see one dtype.
  bool cast_inputs_to_output = false;
  MakeKernelFn make_cpu_kernel;
  // Gradient rules arrive with automatic differentiation; until then an op says whether it
  // is differentiable at all.
  bool differentiable = true;
};

class Registry {
 public:
  // The process-wide registry, filled by RegisterAll() on first use.
  static const Registry& Global();

  void Add(OpDef def);
  const OpDef* Find(const std::string& name) const;
  std::vector<const OpDef*> All() const;

 private:
  std::vector<std::unique_ptr<OpDef>> defs_;
};

// The op table of docs/ops.md, generated from the registry so it cannot drift.
std::string OpsMarkdown();

// Checks arity, infers output types and stores the OpDef on the node.
absl::Status ResolveAndInfer(ir::Apply& node, std::vector<ir::Type>* out_types);

}  // namespace tensord::ops
