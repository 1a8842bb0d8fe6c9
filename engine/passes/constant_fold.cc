#include "engine/passes/constant_fold.h"

#include <unordered_map>
#include <unordered_set>

#include "engine/backends/cpu/broadcast.h"
#include "engine/backends/cpu/cast.h"
#include "engine/backends/cpu/provider.h"
#include "engine/ops/op_def.h"
#include "engine/passes/rewrite_util.h"

namespace tensord::passes {
namespace {

using runtime::Shape;
using runtime::Tensor;

// Ops whose every output has at most as many elements as their largest input.
bool BoundedByLargestInput(const std::string& op) {
  static const std::unordered_set<std::string> kOps = {
      "sum",      "prod",    "max",       "min",         "mean",      "var",
      "std",      "all",     "any",       "argmax",      "argmin",    "max_and_argmax",
      "cumop",    "sort",    "argsort",   "dimshuffle",  "reshape",   "flatten",
      "shape",    "shape_i", "subtensor", "sum_to_like", "zero_grad", "disconnected_grad",
      "grad_clip"};
  return kOps.count(op) > 0;
}

std::optional<int64_t> Product(const Shape& shape) {
  int64_t n = 1;
  for (int64_t d : shape)
    if (__builtin_mul_overflow(n, d, &n)) return std::nullopt;
  return n;
}

// numpy.dot's output shape: a's dims but the last, then b's but the second-to-last.
std::optional<int64_t> DotElements(const Shape& a, const Shape& b) {
  if (a.empty() || b.empty()) {
    const Shape* shapes[] = {&a, &b};
    auto joint = cpu::BroadcastShapes(shapes);
    return joint.ok() ? Product(*joint) : std::nullopt;
  }
  Shape out(a.begin(), a.end() - 1);
  for (size_t i = 0; i < b.size(); ++i)
    if (b.size() == 1 || i != b.size() - 2) out.push_back(b[i]);
  return Product(out);
}

class ConstantFoldPass final : public Pass {
 public:
  explicit ConstantFoldPass(int64_t max_bytes) : max_bytes_(max_bytes) {}
  std::string name() const override { return "constant_fold"; }

  absl::StatusOr<bool> Run(ir::Graph& graph) override {
    std::unordered_map<const ir::Variable*, ir::Variable*> rep;
    // Indexing, because folding appends constants to the list being walked.
    const size_t n = graph.applies().size();
    for (size_t i = 0; i < n; ++i) {
      ir::Apply* a = graph.applies()[i].get();
      for (ir::Variable*& in : a->inputs) {
        auto it = rep.find(in);
        if (it != rep.end()) in = it->second;
      }
      std::vector<Tensor> values;
      if (!Fold(*a, &values)) continue;
      for (size_t k = 0; k < values.size(); ++k)
        rep[a->outputs[k]] = graph.AddConstant(std::move(values[k]), a->outputs[k]->type);
    }
    for (ir::Variable*& out : graph.outputs()) {
      auto it = rep.find(out);
      if (it != rep.end()) out = it->second;
    }
    return !rep.empty();
  }

 private:
  // Evaluates `a` when its inputs are constants and its outputs are small enough. A kernel
  // error leaves the node alone: the run reports it where the user expects it.
  bool Fold(const ir::Apply& a, std::vector<Tensor>* values) const {
    if (a.def == nullptr || !cpu::Supports(*a.def) || a.outputs.empty()) return false;
    for (const ir::Variable* in : a.inputs)
      if (in->source != ir::Source::kConstant) return false;
    std::optional<int64_t> elements = FoldedElementsBound(a);
    if (!elements.has_value()) return false;
    for (const ir::Variable* o : a.outputs) {
      int64_t bytes;
      if (__builtin_mul_overflow(*elements, static_cast<int64_t>(DTypeSize(o->type.dtype)),
                                 &bytes) ||
          bytes > max_bytes_) {
        return false;
      }
    }
    std::vector<std::optional<DType>> wanted(a.inputs.size());
    if (a.def->input_dtypes) wanted = a.def->input_dtypes(a);
    std::vector<Tensor> inputs;
    for (size_t i = 0; i < a.inputs.size(); ++i) {
      const Tensor& c = a.inputs[i]->constant;
      if (wanted[i].has_value() && *wanted[i] != c.dtype()) {
        Tensor cast;
        if (!cpu::CastInto(c, *wanted[i], cast).ok()) return false;
        inputs.push_back(std::move(cast));
      } else {
        inputs.push_back(c);
      }
    }
    auto kernel = cpu::MakeNodeKernel(a);
    if (!kernel.ok()) return false;
    std::vector<Tensor> outputs(a.outputs.size());
    std::vector<const Tensor*> in_ptrs;
    for (const Tensor& t : inputs) in_ptrs.push_back(&t);
    std::vector<Tensor*> out_ptrs;
    for (Tensor& t : outputs) out_ptrs.push_back(&t);
    if (!(*kernel)->Run(in_ptrs, out_ptrs).ok()) return false;
    for (size_t k = 0; k < outputs.size(); ++k) {
      // Constants are read as C-ordered bytes (cache key, merge, wire).
      Tensor dense = cpu::Contiguous(outputs[k]);
      if (dense.dtype() != a.outputs[k]->type.dtype) return false;
      if (!ir::CheckValueFitsType(dense, a.outputs[k]->type, "folded constant").ok()) return false;
      values->push_back(std::move(dense));
    }
    return true;
  }

  int64_t max_bytes_;
};

}  // namespace

std::optional<int64_t> FoldedElementsBound(const ir::Apply& node) {
  std::vector<const Shape*> shapes;
  for (const ir::Variable* in : node.inputs) shapes.push_back(&in->constant.shape());
  if (IsElementwise(node.op)) {
    auto joint = cpu::BroadcastShapes(shapes);
    return joint.ok() ? Product(*joint) : std::nullopt;
  }
  if (BoundedByLargestInput(node.op) || node.op == "join" || node.op == "make_vector") {
    int64_t largest = 1, total = 0;
    for (const Shape* s : shapes) {
      std::optional<int64_t> n = Product(*s);
      if (!n.has_value()) return std::nullopt;
      largest = std::max(largest, *n);
      total += *n;
    }
    return node.op == "join" || node.op == "make_vector" ? std::max<int64_t>(total, 1) : largest;
  }
  if (node.op == "dot" && shapes.size() == 2) return DotElements(*shapes[0], *shapes[1]);
  return std::nullopt;
}

std::unique_ptr<Pass> MakeConstantFoldPass(int64_t max_bytes) {
  return std::make_unique<ConstantFoldPass>(max_bytes);
}

}  // namespace tensord::passes
