#include "engine/compile/inplace_plan.h"

#include <unordered_map>
#include <utility>

namespace tensord::compile {

InplaceRequest RequestedInplace(const ir::Apply& node) {
  auto it = node.attrs.find("inplace");
  if (it == node.attrs.end() || node.outputs.size() != 1) return {};
  const int64_t* k = std::get_if<int64_t>(&it->second);
  if (k == nullptr || *k < 0 || *k >= static_cast<int64_t>(node.inputs.size())) return {};
  if (node.inputs[*k]->type.dtype != node.outputs[0]->type.dtype) return {};
  return {static_cast<int>(*k), node.op == "composite" || node.op == "gemm"};
}

void PlanDonations(std::vector<Instruction>& instructions,
                   const std::unordered_set<int>& protected_slots) {
  std::unordered_map<int, size_t> producer, last_read;
  for (size_t i = 0; i < instructions.size(); ++i) {
    for (int s : instructions[i].outputs) producer.emplace(s, i);
    for (int s : instructions[i].inputs) last_read[s] = i;
  }
  for (size_t i = 0; i < instructions.size(); ++i) {
    Instruction& ins = instructions[i];
    if (ins.donate < 0) continue;
    const int s = ins.inputs[ins.donate];
    auto made = producer.find(s);
    const bool temporary = made != producer.end() && made->second < i && last_read.at(s) == i &&
                           !protected_slots.count(s);
    if (!temporary || ins.outputs.size() != 1 || ins.outputs[0] == s) ins.donate = -1;
  }
}

bool TryDonate(const Instruction& ins, std::vector<runtime::Tensor>& slots) {
  const int s = ins.inputs[ins.donate];
  runtime::Tensor& in = slots[s];
  const auto& buffer = in.buffer();
  if (!buffer || buffer.use_count() != 1 || !in.is_contiguous() || in.raw() != buffer->data()) {
    return false;
  }
  if (!ins.donate_checks_aliasing) {
    // The kernel sizes its output with Tensor::Reshape, which keeps a buffer it owns alone when
    // it is large enough and at most about twice the size needed: then it is the same buffer.
    if (buffer->bytes() > 2 * in.num_bytes() + 4096) return false;
    // The output's shape is the broadcast of all inputs: it is the donor's shape when every
    // other input broadcasts into it.
    for (int other : ins.inputs) {
      if (other == s) continue;
      const runtime::Tensor& u = slots[other];
      if (u.ndim() > in.ndim()) return false;
      const int lead = in.ndim() - u.ndim();
      for (int d = 0; d < u.ndim(); ++d) {
        if (u.shape()[d] != 1 && u.shape()[d] != in.shape()[lead + d]) return false;
      }
    }
  }
  std::swap(in, slots[ins.outputs[0]]);
  return true;
}

}  // namespace tensord::compile
