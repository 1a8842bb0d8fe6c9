// Symbolic graphs, built the way Theano builds them: typed variables (dtype + broadcastable
// pattern) connected by apply nodes, encoded directly as `tensord.v1.Graph`.
//
//   GraphBuilder g;
//   Var x = g.Matrix("x"), y = g.Scalar("y");
//   Var z = Exp(x * y) + 1;               // y is padded with dimshuffle{x,x}, 1 becomes int8
//   auto spec = FunctionSpecBuilder(g).Inputs({x, y}).Outputs({z}).Build();
//
// Type inference happens here, on the client, so that every Variable on the wire carries its
// type; the server re-infers and rejects a mismatch. Errors (a non-broadcastable dimension
// dropped, variables of two builders mixed ...) are sticky: the op returns an invalid Var, the
// builder keeps the first error, and Build() reports it.
#ifndef TENSORD_CLIENT_GRAPH_H_
#define TENSORD_CLIENT_GRAPH_H_

#include <concepts>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "tensord/tensor.h"
#include "tensord/v1/compute.pb.h"
#include "tensord/v1/graph.pb.h"

namespace tensord::client {

class GraphBuilder;

// C++ numbers that can stand for scalar literals in graphs.
template <typename T>
concept Arithmetic = std::is_arithmetic_v<T>;

// A symbolic variable: a cheap handle {builder, id}. Valid only while its builder lives.
class Var {
 public:
  Var() = default;

  bool valid() const { return builder_ != nullptr && id_ > 0; }
  GraphBuilder* builder() const { return builder_; }
  int64_t id() const { return id_; }
  // The type fields return DT_INVALID / empty for an invalid Var.
  DType dtype() const;
  std::vector<bool> broadcastable() const;
  int ndim() const;
  std::string name() const;
  ::tensord::v1::TensorType type() const;
  // Theano's x.T.
  Var T() const;

 private:
  friend class GraphBuilder;
  Var(GraphBuilder* builder, int64_t id) : builder_(builder), id_(id) {}

  GraphBuilder* builder_ = nullptr;
  int64_t id_ = 0;
};

using AttrMap = std::map<std::string, ::tensord::v1::AttrValue>;
::tensord::v1::AttrValue IntAttr(int64_t value);
::tensord::v1::AttrValue IntsAttr(const std::vector<int64_t>& values);
::tensord::v1::AttrValue DTypeAttr(DType dtype);
::tensord::v1::AttrValue FloatAttr(double value);
::tensord::v1::AttrValue BoolAttr(bool value);
::tensord::v1::AttrValue StringAttr(std::string value);

// NumPy's result_type for two dtypes (int32 + float32 -> float64, int8 + uint8 -> int16 ...).
DType ResultType(DType a, DType b);
// Theano's upgrade_to_float: what exp/log/true_div of an integer produce.
DType UpgradeToFloat(DType dtype);
// The dtype Theano's sum accumulates and returns when none is given.
DType SumDType(DType dtype);

class GraphBuilder {
 public:
  // float_x is Theano's floatX: the default dtype of Matrix() etc. and of float literals.
  explicit GraphBuilder(DType float_x = kFloat32);
  // Vars point at their builder, so it must stay put.
  GraphBuilder(const GraphBuilder&) = delete;
  GraphBuilder& operator=(const GraphBuilder&) = delete;

  DType float_x() const { return float_x_; }

  // Symbolic inputs. dtype DT_INVALID (the default) means float_x.
  Var Input(std::string name, DType dtype, std::vector<bool> broadcastable);
  Var Scalar(std::string name = "", DType dtype = ::tensord::v1::DT_INVALID);
  Var Vector(std::string name = "", DType dtype = ::tensord::v1::DT_INVALID);
  Var Row(std::string name = "", DType dtype = ::tensord::v1::DT_INVALID);  // (True, False)
  Var Col(std::string name = "", DType dtype = ::tensord::v1::DT_INVALID);  // (False, True)
  Var Matrix(std::string name = "", DType dtype = ::tensord::v1::DT_INVALID);
  Var Tensor3(std::string name = "", DType dtype = ::tensord::v1::DT_INVALID);

  // A constant; like Theano, dimensions of length 1 are broadcastable.
  Var Constant(HostTensor value, std::string name = "");
  // A scalar literal typed as Theano types Python numbers: floats become float_x (or, with a
  // float64 float_x, float32 when exact), integers the smallest int8..int64 that holds them.
  template <Arithmetic T>
  Var Literal(T value) {
    if constexpr (std::is_same_v<T, bool>) {
      return Constant(*HostTensor::FromBools({value}, {}));
    } else if constexpr (std::is_floating_point_v<T>) {
      return FloatLiteral(static_cast<double>(value));
    } else if constexpr (std::is_unsigned_v<T> && sizeof(T) == 8) {
      // Theano falls back to uint64 for integers too large for int64.
      if (value > static_cast<T>(INT64_MAX)) return Constant(HostTensor::Scalar<uint64_t>(value));
      return IntLiteral(static_cast<int64_t>(value));
    } else {
      return IntLiteral(static_cast<int64_t>(value));
    }
  }
  // A shared variable of a session (see Session::CreateShared / Shared::info()).
  Var SharedVar(const ::tensord::v1::SharedInfo& info);

  // Adds an apply node with caller-given output types and no inference: the way to reach server
  // ops this builder has no helper for. Fails (sticky) if an input is invalid or foreign.
  // `bodies` are inner graphs of ops that have them (scan's step function, Apply.bodies): each
  // is self-contained, with its own ids, so it is stored as given.
  std::vector<Var> Apply(std::string op, const std::vector<Var>& inputs, AttrMap attrs,
                         const std::vector<::tensord::v1::TensorType>& output_types,
                         std::vector<::tensord::v1::Graph> bodies = {});

  // The first error recorded; OK when every op so far succeeded.
  const absl::Status& status() const { return status_; }
  // Records `error` if it is the first one; returns an invalid Var so ops can `return Fail(...)`.
  Var Fail(absl::Status error);
  // An error unless every Var is valid and belongs to this builder.
  absl::Status CheckOwned(absl::string_view op, const std::vector<Var>& vars) const;

  // The Var of variable `id` of this builder's graph (invalid when there is none).
  Var VarOf(int64_t id) const;
  // The Variable proto of `var` (nullptr when invalid or foreign).
  const ::tensord::v1::Variable* Find(Var var) const;
  // The value of a constant 0-d variable, if it is one (Alloc uses it for broadcastability).
  std::optional<double> ConstantScalarValue(Var var) const;

  // Everything built so far, unpruned, with empty inputs/outputs.
  const ::tensord::v1::Graph& graph() const { return graph_; }
  // The part of the graph that `outputs` and `extra_roots` need, with graph.inputs/outputs set.
  // Pruning lets one builder serve many functions, as Theano's symbolic variables do.
  absl::StatusOr<::tensord::v1::Graph> Build(const std::vector<Var>& inputs,
                                             const std::vector<Var>& outputs,
                                             const std::vector<Var>& extra_roots = {}) const;
  // Merges a graph the server extended (Differentiate) into this builder: variables whose id is
  // not in `sent` are new and get fresh ids here. Returns the Vars for `ids` of `extended`.
  absl::StatusOr<std::vector<Var>> Import(const ::tensord::v1::Graph& sent,
                                          const ::tensord::v1::Graph& extended,
                                          const std::vector<int64_t>& ids);

 private:
  Var AddVariable(std::string name, ::tensord::v1::TensorType type);
  Var FloatLiteral(double value);
  Var IntLiteral(int64_t value);
  const ::tensord::v1::Variable* FindId(int64_t id) const;

  DType float_x_;
  ::tensord::v1::Graph graph_;
  // Ids are dense, starting at 1 (proto3's 0 reads as "unset"): variable id i is
  // graph_.variables(i - 1); producer_[i - 1] is the index of the apply that outputs it, or -1.
  std::vector<int> producer_;
  absl::Status status_;
};

// Function options mirror FunctionSpec's fields.
struct FunctionOptions {
  bool allow_input_downcast = false;
  std::string mode;  // FAST_RUN when empty
  std::string name;
  bool profile = false;
  // With profile: record each run's buffers (Theano's profile_memory; the profile's Memory
  // Profile section).
  bool profile_memory = false;
  // A context name or a device value (cuda1); the server's default device when empty.
  std::string context;
  // Ops the context cannot run go to cpu with transfers instead of failing the compile.
  bool cpu_fallback = false;
  // Theano's allow_gc=False: every intermediate lives until the run ends and stays with the
  // function between runs (by default each is freed once its last reader has run).
  bool keep_intermediates = false;
};

// Assembles a FunctionSpec (Theano's theano.function arguments) from a builder.
class FunctionSpecBuilder {
 public:
  explicit FunctionSpecBuilder(const GraphBuilder& graph) : graph_(graph) {}
  FunctionSpecBuilder& Inputs(std::vector<Var> inputs);
  FunctionSpecBuilder& Outputs(std::vector<Var> outputs);
  FunctionSpecBuilder& Update(Var shared, Var new_value);
  FunctionSpecBuilder& Given(Var variable, Var value);
  FunctionSpecBuilder& Options(FunctionOptions options);
  // Checks types the way theano.function does (an update keeps its shared variable's type).
  absl::StatusOr<::tensord::v1::FunctionSpec> Build() const;

 private:
  const GraphBuilder& graph_;
  std::vector<Var> inputs_, outputs_;
  std::vector<std::pair<Var, Var>> updates_, givens_;
  FunctionOptions options_;
};

}  // namespace tensord::client

#endif  // TENSORD_CLIENT_GRAPH_H_
