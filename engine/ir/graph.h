// The engine's graph IR: variables produced by apply nodes, as in Theano.
// A Graph owns its nodes; Variable/Apply pointers stay valid while the graph lives.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <variant>
#include <vector>

#include "engine/ir/type.h"
#include "engine/runtime/tensor.h"

namespace tensord::ops {
struct OpDef;
}

namespace tensord::ir {

using AttrValue = std::variant<int64_t, double, std::string, bool, std::vector<int64_t>,
                               std::vector<double>, DType>;
using Attrs = std::map<std::string, AttrValue>;

struct Apply;
class Graph;

enum class Source { kInput, kConstant, kShared, kOutput };

struct Variable {
  int64_t id = 0;  // stable within a graph; the wire id for graphs decoded from a request
  std::string name;
  Type type;
  Source source = Source::kInput;
  runtime::Tensor constant;  // when source == kConstant
  std::string shared_id;     // when source == kShared
  Apply* owner = nullptr;    // when source == kOutput
  int output_index = 0;

  // Theano's printing name: the user's name or "<TensorType(float32, matrix)>".
  std::string DisplayName() const;
};

struct Apply {
  std::string op;
  Attrs attrs;
  std::vector<Variable*> inputs;
  std::vector<Variable*> outputs;
  const ops::OpDef* def = nullptr;  // resolved from the registry when the node is created
  // Inner graphs (scan's step function). Immutable and shared: copying a node (DebugMode's twin,
  // a rewrite) shares its bodies instead of deep-copying them.
  std::vector<std::shared_ptr<const Graph>> bodies;
};

class Graph {
 public:
  Graph() = default;
  Graph(const Graph&) = delete;
  Graph& operator=(const Graph&) = delete;
  Graph(Graph&&) = default;
  Graph& operator=(Graph&&) = default;

  Variable* AddInput(Type type, std::string name = "");
  Variable* AddConstant(runtime::Tensor value, Type type, std::string name = "");
  Variable* AddShared(Type type, std::string shared_id, std::string name = "");
  // Appends an apply node whose outputs have the given types. Nodes are kept in insertion
  // order, which callers keep topological.
  Apply* AddApply(std::string op, Attrs attrs, std::vector<Variable*> inputs,
                  std::vector<Type> output_types,
                  std::vector<std::shared_ptr<const Graph>> bodies = {});

  // A copy with the same ids, names and order; `map` (optional) receives old -> new variables.
  std::unique_ptr<Graph> Clone(std::unordered_map<const Variable*, Variable*>* map = nullptr) const;

  // Replaces every use of `from` (by applies and graph outputs) with `to`.
  void ReplaceAllUses(Variable* from, Variable* to);

  const std::vector<std::unique_ptr<Variable>>& variables() const { return variables_; }
  const std::vector<std::unique_ptr<Apply>>& applies() const { return applies_; }
  std::vector<Variable*>& inputs() { return inputs_; }
  const std::vector<Variable*>& inputs() const { return inputs_; }
  std::vector<Variable*>& outputs() { return outputs_; }
  const std::vector<Variable*>& outputs() const { return outputs_; }

  int64_t next_id() const { return next_id_; }
  void set_next_id(int64_t id) { next_id_ = id; }

  // Reorders applies so each comes after the producers of its inputs, keeping the current
  // order where it is already valid. Fails when the graph has a cycle (e.g. from givens).
  absl::Status SortTopologically();

  // Drops applies and variables that no output (or `keep`) depends on.
  void RemoveDeadNodes(const std::vector<Variable*>& keep = {});

 private:
  Variable* NewVariable(Type type, std::string name, Source source);

  std::vector<std::unique_ptr<Variable>> variables_;
  std::vector<std::unique_ptr<Apply>> applies_;
  std::vector<Variable*> inputs_;
  std::vector<Variable*> outputs_;
  int64_t next_id_ = 0;
};

// Checks that `value` can be stored in a variable of `type` (ndim, dtype and size-1 dims
// where broadcastable); `what` names the value in the error.
absl::Status CheckValueFitsType(const runtime::Tensor& value, const Type& type,
                                const std::string& what);

// Typed attribute access with a clear error naming the op and attribute.
template <typename T>
absl::StatusOr<T> GetAttr(const Apply& node, const std::string& key);
absl::StatusOr<std::vector<int64_t>> GetIntsAttr(const Apply& node, const std::string& key);

}  // namespace tensord::ir
