#include "engine/ir/graph.h"

#include <unordered_map>
#include <unordered_set>

namespace tensord::ir {

std::string Variable::DisplayName() const {
  if (!name.empty()) return name;
  return absl::StrCat("<", TypeString(type), ">");
}

Variable* Graph::NewVariable(Type type, std::string name, Source source) {
  auto v = std::make_unique<Variable>();
  v->id = next_id_++;
  v->type = std::move(type);
  v->name = std::move(name);
  v->source = source;
  variables_.push_back(std::move(v));
  return variables_.back().get();
}

Variable* Graph::AddInput(Type type, std::string name) {
  return NewVariable(std::move(type), std::move(name), Source::kInput);
}

Variable* Graph::AddConstant(runtime::Tensor value, Type type, std::string name) {
  Variable* v = NewVariable(std::move(type), std::move(name), Source::kConstant);
  v->constant = std::move(value);
  return v;
}

Variable* Graph::AddShared(Type type, std::string shared_id, std::string name) {
  Variable* v = NewVariable(std::move(type), std::move(name), Source::kShared);
  v->shared_id = std::move(shared_id);
  return v;
}

Apply* Graph::AddApply(std::string op, Attrs attrs, std::vector<Variable*> inputs,
                       std::vector<Type> output_types,
                       std::vector<std::shared_ptr<const Graph>> bodies) {
  auto node = std::make_unique<Apply>();
  node->op = std::move(op);
  node->attrs = std::move(attrs);
  node->inputs = std::move(inputs);
  node->bodies = std::move(bodies);
  for (size_t i = 0; i < output_types.size(); ++i) {
    Variable* out = NewVariable(std::move(output_types[i]), "", Source::kOutput);
    out->owner = node.get();
    out->output_index = static_cast<int>(i);
    node->outputs.push_back(out);
  }
  applies_.push_back(std::move(node));
  return applies_.back().get();
}

std::unique_ptr<Graph> Graph::Clone(std::unordered_map<const Variable*, Variable*>* map) const {
  auto graph = std::make_unique<Graph>();
  std::unordered_map<const Variable*, Variable*> local;
  if (map == nullptr) map = &local;
  for (const auto& v : variables_) {
    Variable* copy = nullptr;
    switch (v->source) {
      case Source::kInput:
        copy = graph->AddInput(v->type, v->name);
        break;
      case Source::kConstant:
        copy = graph->AddConstant(v->constant, v->type, v->name);
        break;
      case Source::kShared:
        copy = graph->AddShared(v->type, v->shared_id, v->name);
        break;
      case Source::kOutput:
        continue;  // created with their apply below
    }
    copy->id = v->id;
    (*map)[v.get()] = copy;
  }
  for (const auto& a : applies_) {
    std::vector<Variable*> inputs;
    for (const Variable* in : a->inputs) inputs.push_back(map->at(in));
    std::vector<Type> types;
    for (const Variable* out : a->outputs) types.push_back(out->type);
    Apply* copy = graph->AddApply(a->op, a->attrs, std::move(inputs), std::move(types), a->bodies);
    copy->def = a->def;
    for (size_t i = 0; i < a->outputs.size(); ++i) {
      copy->outputs[i]->id = a->outputs[i]->id;
      copy->outputs[i]->name = a->outputs[i]->name;
      (*map)[a->outputs[i]] = copy->outputs[i];
    }
  }
  for (const Variable* in : inputs_) graph->inputs().push_back(map->at(in));
  for (const Variable* out : outputs_) graph->outputs().push_back(map->at(out));
  graph->set_next_id(next_id_);
  return graph;
}

void Graph::ReplaceAllUses(Variable* from, Variable* to) {
  for (auto& a : applies_)
    for (auto*& in : a->inputs)
      if (in == from) in = to;
  for (auto*& out : outputs_)
    if (out == from) out = to;
}

absl::Status Graph::SortTopologically() {
  enum class Mark { kNone, kVisiting, kDone };
  std::unordered_map<const Apply*, Mark> mark;
  std::vector<std::unique_ptr<Apply>> sorted;
  std::unordered_map<const Apply*, std::unique_ptr<Apply>*> slot;
  for (auto& a : applies_) slot[a.get()] = &a;
  // Iterative DFS: post-order over producers keeps already-valid orders unchanged.
  for (auto& root : applies_) {
    if (root == nullptr || mark[root.get()] == Mark::kDone) continue;
    std::vector<std::pair<Apply*, size_t>> stack = {{root.get(), 0}};
    mark[root.get()] = Mark::kVisiting;
    while (!stack.empty()) {
      auto& [node, next] = stack.back();
      if (next < node->inputs.size()) {
        Apply* producer = node->inputs[next++]->owner;
        if (producer == nullptr) continue;
        Mark m = mark[producer];
        if (m == Mark::kVisiting) {
          return InvalidArgument("the graph has a cycle through op '", producer->op,
                                 "' (a given may depend on the variable it replaces)");
        }
        if (m == Mark::kNone) {
          mark[producer] = Mark::kVisiting;
          stack.emplace_back(producer, 0);
        }
        continue;
      }
      mark[node] = Mark::kDone;
      sorted.push_back(std::move(*slot.at(node)));
      stack.pop_back();
    }
  }
  applies_ = std::move(sorted);
  return absl::OkStatus();
}

void Graph::RemoveDeadNodes(const std::vector<Variable*>& keep) {
  std::unordered_set<const Variable*> live(outputs_.begin(), outputs_.end());
  live.insert(keep.begin(), keep.end());
  live.insert(inputs_.begin(), inputs_.end());
  std::unordered_set<const Apply*> live_applies;
  for (auto it = applies_.rbegin(); it != applies_.rend(); ++it) {
    Apply* a = it->get();
    bool used = false;
    for (Variable* o : a->outputs) used |= live.count(o) > 0;
    if (!used) continue;
    live_applies.insert(a);
    for (Variable* o : a->outputs) live.insert(o);
    for (Variable* in : a->inputs) live.insert(in);
  }
  std::erase_if(applies_, [&](const auto& a) { return !live_applies.count(a.get()); });
  std::erase_if(variables_, [&](const auto& v) { return !live.count(v.get()); });
}

absl::Status CheckValueFitsType(const runtime::Tensor& value, const Type& type,
                                const std::string& what) {
  if (value.ndim() != type.ndim()) {
    return InvalidArgument(what, " has ", value.ndim(), " dimensions (shape ",
                           runtime::ShapeString(value.shape()), ") but ", TypeString(type),
                           " expects ", type.ndim());
  }
  if (value.dtype() != type.dtype) {
    return InvalidArgument(what, " has dtype ", DTypeName(value.dtype()), " but ", TypeString(type),
                           " expects ", DTypeName(type.dtype));
  }
  for (int d = 0; d < type.ndim(); ++d) {
    if (type.broadcastable[d] && value.shape()[d] != 1) {
      return InvalidArgument(what, " has shape ", runtime::ShapeString(value.shape()),
                             " but dimension ", d, " of ", TypeString(type),
                             " is broadcastable and must have length 1");
    }
  }
  return absl::OkStatus();
}

template <typename T>
absl::StatusOr<T> GetAttr(const Apply& node, const std::string& key) {
  auto it = node.attrs.find(key);
  if (it == node.attrs.end())
    return InvalidArgument("op '", node.op, "' needs attribute '", key, "'");
  if (const T* v = std::get_if<T>(&it->second)) return *v;
  return InvalidArgument("attribute '", key, "' of op '", node.op, "' has the wrong kind");
}

template absl::StatusOr<int64_t> GetAttr(const Apply&, const std::string&);
template absl::StatusOr<double> GetAttr(const Apply&, const std::string&);
template absl::StatusOr<std::string> GetAttr(const Apply&, const std::string&);
template absl::StatusOr<bool> GetAttr(const Apply&, const std::string&);
template absl::StatusOr<DType> GetAttr(const Apply&, const std::string&);

absl::StatusOr<std::vector<int64_t>> GetIntsAttr(const Apply& node, const std::string& key) {
  auto it = node.attrs.find(key);
  if (it == node.attrs.end())
    return InvalidArgument("op '", node.op, "' needs attribute '", key, "'");
  if (auto* v = std::get_if<std::vector<int64_t>>(&it->second)) return *v;
  if (auto* v = std::get_if<int64_t>(&it->second)) return std::vector<int64_t>{*v};
  return InvalidArgument("attribute '", key, "' of op '", node.op, "' must be a list of ints");
}

}  // namespace tensord::ir
