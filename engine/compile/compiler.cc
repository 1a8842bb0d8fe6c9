#include "engine/compile/compiler.h"

#include <algorithm>
#include <chrono>
#include <optional>
#include <unordered_map>
#include <unordered_set>

#include "absl/strings/str_join.h"
#include "engine/backends/cpu/cast.h"
#include "engine/backends/cpu/provider.h"
#include "engine/backends/cuda/provider/provider.h"
#include "engine/compile/drop_plan.h"
#include "engine/compile/inplace_plan.h"
#include "engine/compile/scan_kernel.h"
#include "engine/frontend/theano_names.h"
#include "engine/frontend/verifier.h"
#include "engine/passes/pipeline.h"

namespace tensord::compile {
namespace {
// Constants a GPU reads that its executable keeps there (scalars, small vectors).
constexpr int64_t kMostResidentConstantBytes = 64 * 1024;

std::string Label(const ir::Variable* v) {
  return v->name.empty() ? absl::StrCat("variable ", v->id) : absl::StrCat("'", v->name, "'");
}

// Lazy ifelse. For each ifelse instruction, the instructions whose outputs only its then inputs
// need (transitively, and no output, update or other consumer needs them) get a guard
// (ifelse, 0), those only its else inputs need (ifelse, 1). The instructions before each ifelse
// are then stably reordered: the others first, the guarded ones last. That stays topological
// (a guarded instruction feeds only guarded ones and the ifelse) and puts the condition's
// producers, never guarded by their own ifelse, before the branches. Nested ifelses nest
// guards: an instruction exclusive to an inner branch that is itself exclusive to an outer
// branch carries both, the outer one first.
void PlanLazyIfElse(std::vector<Instruction>& instructions, const std::vector<size_t>& ifelses,
                    const std::unordered_set<int>& pinned, std::vector<int>& cond_slots) {
  if (ifelses.empty()) return;
  const size_t n_ins = instructions.size();
  // slot -> (consumer instruction, input position)
  std::unordered_map<int, std::vector<std::pair<size_t, size_t>>> consumers;
  for (size_t i = 0; i < n_ins; ++i)
    for (size_t p = 0; p < instructions[i].inputs.size(); ++p)
      consumers[instructions[i].inputs[p]].push_back({i, p});
  // Guards by original index; ifelses numbered from the outermost (latest) one.
  std::vector<std::vector<std::pair<int, int>>> guards(n_ins);
  std::vector<int> number_of(ifelses.size(), -1);
  for (size_t e = ifelses.size(); e-- > 0;) {
    const size_t k = ifelses[e];
    const int number = static_cast<int>(cond_slots.size());
    const size_t n = instructions[k].outputs.size();
    std::vector<int> side(n_ins, -1);  // branch each instruction is exclusive to
    bool any = false;
    for (size_t j = k; j-- > 0;) {
      const Instruction& ins = instructions[j];
      int branch = -1;
      bool ok = !ins.outputs.empty();
      for (int s : ins.outputs) {
        if (!ok) break;
        auto it = consumers.find(s);
        if (pinned.count(s)) {
          ok = false;
          break;
        }
        if (it == consumers.end()) continue;  // an unused output (branch below needs one used)
        for (const auto& [c, p] : it->second) {
          int b = -1;
          if (c == k && p >= 1 && p <= 2 * n)
            b = p <= n ? 0 : 1;
          else if (c != k)
            b = side[c];
          if (b < 0 || (branch >= 0 && b != branch)) {
            ok = false;
            break;
          }
          branch = b;
        }
      }
      if (ok && branch >= 0) {
        side[j] = branch;
        any = true;
      }
    }
    if (!any) continue;
    number_of[e] = number;
    cond_slots.push_back(instructions[k].inputs[0]);
    for (size_t j = 0; j < k; ++j)
      if (side[j] >= 0) guards[j].push_back({number, side[j]});
  }
  // Reorder: for each ifelse in order, the instructions guarded by it go last (stable).
  std::vector<size_t> order(n_ins);
  for (size_t i = 0; i < n_ins; ++i) order[i] = i;
  for (size_t e = 0; e < ifelses.size(); ++e) {
    const int number = number_of[e];
    if (number < 0) continue;
    // ifelses[e] has not moved: earlier partitions only permuted positions before earlier ones.
    std::stable_partition(order.begin(), order.begin() + ifelses[e], [&](size_t j) {
      return std::none_of(guards[j].begin(), guards[j].end(),
                          [&](const auto& g) { return g.first == number; });
    });
  }
  std::vector<Instruction> reordered;
  reordered.reserve(n_ins);
  for (size_t j : order) {
    reordered.push_back(std::move(instructions[j]));
    reordered.back().guards = std::move(guards[j]);
  }
  instructions = std::move(reordered);
}

// Merges several graph variables naming the same shared variable into one.
void MergeSharedDuplicates(ir::Graph& g) {
  std::unordered_map<std::string, ir::Variable*> first;
  for (const auto& v : g.variables()) {
    if (v->source != ir::Source::kShared) continue;
    auto [it, inserted] = first.emplace(v->shared_id, v.get());
    if (!inserted) g.ReplaceAllUses(v.get(), it->second);
  }
}

// Whether the provider of `ctx` has a kernel for node `a`: the CPU provider's (which simulated
// devices share) for every op but a few; the CUDA provider's for what cuda::Supports says.
bool HasCpuKernel(const ir::Apply& a) { return cpu::Supports(*a.def) || a.def->num_bodies > 0; }
bool RunsOn(const context::Context& ctx, const ir::Apply& a) {
  return ctx.kind == context::DeviceKind::kCuda ? cuda::Supports(a) : HasCpuKernel(a);
}

// The device context placement put a node on ("" for the host, and for no node).
std::string DeviceContextOf(const ir::Apply* node) {
  if (node == nullptr) return "";
  auto name = ir::GetAttr<std::string>(*node, "context");
  return name.ok() ? *name : "";
}

// For each graph input, the device context every reader of it moves it to, when all its readers
// are transfers to one device; "" otherwise (read on the host, or on several contexts).
std::vector<std::string> InputReadContexts(
    const ir::Graph& g, const std::vector<std::pair<ir::Variable*, ir::Variable*>>& updates) {
  std::unordered_map<const ir::Variable*, std::optional<std::string>> read_on;
  for (const ir::Variable* in : g.inputs()) read_on[in];
  for (const auto& a : g.applies()) {
    const std::string where = a->op == "transfer" ? DeviceContextOf(a.get()) : "";
    for (const ir::Variable* in : a->inputs) {
      auto it = read_on.find(in);
      if (it == read_on.end()) continue;
      if (!it->second.has_value()) {
        it->second = where;
      } else if (*it->second != where) {
        it->second = "";
      }
    }
  }
  // An input returned as an output or stored as an update is serialized or kept on the host.
  for (const ir::Variable* out : g.outputs())
    if (auto it = read_on.find(out); it != read_on.end()) it->second = "";
  for (const auto& [target, value] : updates)
    if (auto it = read_on.find(value); it != read_on.end()) it->second = "";
  std::vector<std::string> contexts;
  for (const ir::Variable* in : g.inputs()) contexts.push_back(read_on[in].value_or(""));
  return contexts;
}

}  // namespace

absl::StatusOr<PreparedFunction> PrepareFunction(std::unique_ptr<ir::Graph> graph,
                                                 std::vector<Substitution> updates,
                                                 const std::vector<Substitution>& givens,
                                                 CompileOptions options) {
  for (const Substitution& g : givens) {
    if (!(g.variable->type == g.value->type)) {
      return InvalidArgument("givens: ", Label(g.variable), " of type ",
                             ir::TypeString(g.variable->type), " cannot be replaced by ",
                             Label(g.value), " of type ", ir::TypeString(g.value->type));
    }
    if (g.variable->source == ir::Source::kOutput && g.variable == g.value) continue;
    graph->ReplaceAllUses(g.variable, g.value);
    for (auto& u : updates) {
      if (u.value == g.variable) u.value = g.value;
    }
  }
  MergeSharedDuplicates(*graph);
  // A given's value may be computed after the nodes that now consume it.
  TENSORD_RETURN_IF_ERROR(graph->SortTopologically());
  std::unordered_map<std::string, ir::Variable*> shared_by_id;
  for (const auto& v : graph->variables())
    if (v->source == ir::Source::kShared) shared_by_id.emplace(v->shared_id, v.get());

  PreparedFunction out;
  std::unordered_set<std::string> targets;
  std::vector<ir::Variable*> keep;
  for (Substitution& u : updates) {
    if (u.variable->source != ir::Source::kShared) {
      return InvalidArgument("update target ", Label(u.variable), " is not a shared variable");
    }
    ir::Variable* target = shared_by_id.at(u.variable->shared_id);
    if (!targets.insert(target->shared_id).second) {
      return InvalidArgument("shared variable ", Label(target), " is updated twice");
    }
    // Theano's rule: same dtype and rank, and broadcastable wherever the variable is (a row
    // may update a matrix, not the other way round).
    bool fits =
        u.value->type.dtype == target->type.dtype && u.value->type.ndim() == target->type.ndim();
    for (int d = 0; fits && d < target->type.ndim(); ++d) {
      fits = !target->type.broadcastable[d] || u.value->type.broadcastable[d];
    }
    if (!fits) {
      return InvalidArgument("an update must have the same type as the original shared variable: ",
                             Label(target), " is ", ir::TypeString(target->type),
                             " but its update is ", ir::TypeString(u.value->type));
    }
    out.updates.emplace_back(target, u.value);
    keep.push_back(target);
    keep.push_back(u.value);
  }
  graph->RemoveDeadNodes(keep);
  // Givens rewrote the graph: a replacement can change what downstream nodes infer (a constant
  // reshape shape replaced by an input, say). Refuse such a graph here, not in a run.
  const auto verify_start = std::chrono::steady_clock::now();
  absl::Status verified = ir::Verify(*graph);
  out.validate_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                        std::chrono::steady_clock::now() - verify_start)
                        .count();
  if (!verified.ok()) {
    return InvalidArgument("after applying givens the graph no longer type-checks: ",
                           verified.message());
  }

  // Every input variable still used must be one of the function's inputs.
  std::unordered_set<const ir::Variable*> declared(graph->inputs().begin(), graph->inputs().end());
  for (const auto& v : graph->variables()) {
    if (v->source == ir::Source::kInput && !declared.count(v.get())) {
      return InvalidArgument("missing input: ", v->DisplayName(),
                             " is needed to compute the outputs but is not among the function's "
                             "inputs (pass it as an input or replace it with givens)");
    }
  }
  // Refused before any compile work (placement checks again, for graphs built in the engine).
  if (options.contexts != nullptr) {
    for (const auto& a : graph->applies()) {
      if (a->op != "transfer") continue;
      const std::string target = ir::GetAttr<std::string>(*a, "target").value_or("");
      if (!options.contexts->Find(target).ok()) {
        return FailedPrecondition("transfer to unknown context '", target,
                                  "' (this server has: ", options.contexts->Names(), ")");
      }
    }
  }
  if (!options.optimizer_excluding.empty()) {
    const std::vector<std::string> known = passes::Pipeline::AllPassNames();
    for (const std::string& name : options.optimizer_excluding) {
      if (std::find(known.begin(), known.end(), name) == known.end()) {
        return InvalidArgument("optimizer_excluding: unknown optimizer pass '", name,
                               "' (known passes: ", absl::StrJoin(known, ", "), ")");
      }
    }
  }
  std::string extra = absl::StrCat(
      "mode ", options.mode, "\ndowncast ", options.allow_input_downcast, "\ncontext ",
      options.context ? options.context->name : "", "\ncpu_fallback ", options.cpu_fallback, "\n");
  // Only when set, so that the keys of functions compiled before it existed still hit.
  if (options.keep_intermediates) extra += "keep_intermediates\n";
  // Length-prefixed, like every free-form string in a key.
  for (const std::string& name : options.optimizer_excluding)
    absl::StrAppend(&extra, "exclude ", name.size(), ":", name, "\n");
  if (options.mode == "NanGuardMode") {
    const NanGuardOptions& g = options.nan_guard;
    absl::StrAppend(&extra, "nan_guard ", g.nan_is_error, g.inf_is_error, g.big_is_error, "\n");
  }
  out.canonical = ir::Canonicalize(*graph, out.updates, extra);
  // Placement depends on where the shared variables live: part of the key, in canonical order.
  if (options.contexts != nullptr) {
    for (const ir::Variable* s : out.canonical.shared) {
      auto it = options.shared_context.find(s->shared_id);
      const std::string& c = it == options.shared_context.end() ? "" : it->second;
      absl::StrAppend(&out.canonical.key, "shared_context ", c.size(), ":", c, "\n");
    }
  }
  out.graph = std::move(graph);
  out.options = options;
  return out;
}

// Where the function's nodes may run: its context by default, shared variables where they live,
// update values back there; nullopt without a context registry.
std::optional<passes::Placement> PlacementOf(const PreparedFunction& p) {
  const context::ContextRegistry* contexts = p.options.contexts;
  if (contexts == nullptr) return std::nullopt;
  passes::Placement placement;
  placement.contexts = contexts;
  placement.default_context =
      p.options.context != nullptr ? p.options.context->name : contexts->default_context().name;
  placement.shared_context = p.options.shared_context;
  placement.num_outputs = p.graph->outputs().size();
  placement.runs_on = RunsOn;
  placement.host_inputs = [](const context::Context& ctx, const ir::Apply& a) {
    return ctx.kind == context::DeviceKind::kCuda ? cuda::HostInputs(a) : std::vector<int>{};
  };
  placement.cpu_fallback = p.options.cpu_fallback;
  placement.body_context = p.options.body_context;
  for (const auto& [target, value] : p.updates) {
    auto it = placement.shared_context.find(target->shared_id);
    placement.update_contexts.push_back(it == placement.shared_context.end() ? "cpu" : it->second);
  }
  return placement;
}

absl::StatusOr<OptimizeStats> OptimizeFunction(PreparedFunction& p) {
  auto start = std::chrono::steady_clock::now();
  ir::Graph& graph = *p.graph;
  OptimizeStats stats;
  stats.nodes_before = static_cast<int>(graph.applies().size());
  std::vector<std::string> excluding = p.options.optimizer_excluding;
  // NanGuardMode names the first node that produces a bad value: a reduction folded into the
  // expression it reduces, or a product into the expression of it, would hide which one (the
  // sum of a NaN is NaN).
  if (p.options.mode == "NanGuardMode") {
    excluding.push_back("reduction_fusion");
    excluding.push_back("gemm_epilogue");
  }
  passes::Pipeline pipeline({.mode = p.options.mode, .excluding = excluding, .verify_each = false},
                            PlacementOf(p));
  if (!pipeline.passes().empty()) {
    // Passes replace variables in graph outputs, not in the (target, value) pairs of updates,
    // and the dead-code pass keeps only what outputs reach: update values and shared variables
    // (the executable binds every one, used or not) ride along as outputs while passes run.
    auto& outs = graph.outputs();
    const size_t n = outs.size();
    for (const auto& [target, value] : p.updates) outs.push_back(value);
    for (const ir::Variable* s : p.canonical.shared) outs.push_back(const_cast<ir::Variable*>(s));
    std::vector<passes::PassRecord> records;
    absl::Status status = pipeline.Run(graph, &records);
    for (auto& r : records) stats.passes.push_back({std::move(r.name), r.changed, r.duration_ns});
    for (size_t i = 0; i < p.updates.size(); ++i) p.updates[i].second = outs[n + i];
    outs.resize(n);
    TENSORD_RETURN_IF_ERROR(status);
    std::vector<ir::Variable*> keep;
    for (const auto& [target, value] : p.updates) keep.insert(keep.end(), {target, value});
    for (const ir::Variable* s : p.canonical.shared) keep.push_back(const_cast<ir::Variable*>(s));
    graph.RemoveDeadNodes(keep);
  }
  stats.nodes_after = static_cast<int>(graph.applies().size());
  stats.optimizer_ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - start)
          .count();
  return stats;
}

class ExecutableBuilder {
 public:
  static absl::StatusOr<std::shared_ptr<Executable>> Build(PreparedFunction p) {
    auto start = std::chrono::steady_clock::now();
    // Only a cache miss gets here: the key was computed before the optimizer, so hits never
    // optimize.
    TENSORD_ASSIGN_OR_RETURN(OptimizeStats stats, OptimizeFunction(p));
    const auto linker_start = std::chrono::steady_clock::now();  // profile's linker time
    auto exe = std::make_shared<Executable>();
    const context::Context* ctx = p.options.context;
    std::unordered_map<const ir::Variable*, int> slot;
    auto slot_of = [&](const ir::Variable* v) {
      auto [it, inserted] = slot.emplace(v, exe->num_slots_);
      if (inserted) ++exe->num_slots_;
      return it->second;
    };
    for (const ir::Variable* in : p.graph->inputs()) {
      std::string label = absl::StrCat("input ", exe->inputs_.size(),
                                       in->name.empty() ? "" : absl::StrCat(" ('", in->name, "')"));
      exe->inputs_.push_back({slot_of(in), in->type, in->name, std::move(label)});
    }
    // Shared variables bind in canonical order, so a cached executable serves any session.
    for (const ir::Variable* s : p.canonical.shared) {
      exe->shared_.push_back(
          {slot_of(s), s->type, s->name, absl::StrCat("shared '", s->name, "'")});
    }
    for (const auto& v : p.graph->variables()) {
      if (v->source == ir::Source::kConstant)
        exe->constants_.emplace_back(slot_of(v.get()), v->constant);
    }
    std::vector<size_t> ifelses;  // instruction indices of ifelse nodes (lazy, below)
    for (const auto& a : p.graph->applies()) {
      // The node's context: placement's `context` attribute (devices only), else the host;
      // without placement (engine tests) the function's.
      const context::Context* node_ctx = ctx;
      if (p.options.contexts != nullptr) {
        node_ctx = nullptr;
        if (const std::string name = DeviceContextOf(a.get()); !name.empty()) {
          TENSORD_ASSIGN_OR_RETURN(node_ctx, p.options.contexts->Find(name));
        }
      }
      // Placement refused (or moved to cpu) what a device cannot run; this catches graphs
      // built without it.
      if (node_ctx != nullptr ? !RunsOn(*node_ctx, *a) : !HasCpuKernel(*a)) {
        return Unimplemented("op '", a->op, "' has no kernel on context '",
                             node_ctx ? node_ctx->name : "cpu", "'");
      }
      Instruction ins;
      if (node_ctx != nullptr && node_ctx->is_device()) {
        ins.memory = node_ctx->memory;
        if (node_ctx->kind == context::DeviceKind::kCuda) ins.device = node_ctx->runtime;
      } else if (!p.options.body_context.empty()) {
        // A device scan's body runs inside the scan's device scope: its host nodes (shapes, the
        // metadata moved to the host) allocate host memory.
        ins.memory = runtime::MemoryCounterFor("cpu");
      }
      ins.label = ir::NodeLabel(*a);
      ins.op_name = ir::TheanoOpName(*a);
      ins.theano_label = ins.op_name + ir::NodeArgs(*a, /*theano=*/true);
      std::vector<std::optional<DType>> wanted(a->inputs.size());
      const bool on_cuda = node_ctx != nullptr && node_ctx->kind == context::DeviceKind::kCuda;
      // The host casts what a CPU kernel wants cast; a CUDA kernel converts its inputs as it
      // reads them (the provider runs only what needs no cast of the host's).
      if (a->def->input_dtypes && !on_cuda) wanted = a->def->input_dtypes(*a);
      for (size_t i = 0; i < a->inputs.size(); ++i) {
        const ir::Variable* in = a->inputs[i];
        int s = slot_of(in);
        if (wanted[i].has_value() && *wanted[i] != in->type.dtype) {
          Instruction cast;
          cast.kernel = std::make_unique<cpu::CastKernel>(*wanted[i]);
          cast.inputs = {s};
          s = exe->num_slots_++;
          cast.outputs = {s};
          cast.label = absl::StrCat("cast{", DTypeName(*wanted[i]), "}(", in->DisplayName(), ")");
          cast.op_name = absl::StrCat("Elemwise{Cast{", DTypeName(*wanted[i]), "}}");
          cast.theano_label = absl::StrCat(cast.op_name, "(", in->DisplayName(), ")");
          exe->instructions_.push_back(std::move(cast));
        }
        ins.inputs.push_back(s);
      }
      for (const ir::Variable* o : a->outputs) ins.outputs.push_back(slot_of(o));
      auto kernel = a->def->num_bodies > 0
                        ? MakeBodyKernel(*a, p.options, node_ctx)  // scan_kernel.h
                    : on_cuda ? cuda::MakeNodeKernel(*a, node_ctx->runtime)
                              : cpu::MakeNodeKernel(*a);
      if (!kernel.ok()) {
        return absl::Status(kernel.status().code(),
                            absl::StrCat("in ", ins.label, ": ", kernel.status().message()));
      }
      ins.kernel = *std::move(kernel);
      if (on_cuda && a->op == "transfer" && a->inputs[0]->source == ir::Source::kConstant &&
          a->inputs[0]->constant.num_bytes() <= kMostResidentConstantBytes) {
        // A small constant a GPU reads is copied there once, now, and kept by the executable
        // with its other constants: a run uploads nothing for it (and waits for no copy). A
        // large one is copied per run, charged then to the run's quotas and the context's
        // limit, not held by an idle cached function.
        runtime::ScopedMemoryContext on_device(ins.memory);
        runtime::Tensor resident;
        const runtime::Tensor* from[] = {&a->inputs[0]->constant};
        runtime::Tensor* to[] = {&resident};
        if (absl::Status moved = ins.kernel->Run(from, to); !moved.ok()) {
          return absl::Status(moved.code(), absl::StrCat("in ", ins.label, ": ", moved.message()));
        }
        exe->constants_.emplace_back(slot_of(a->outputs[0]), std::move(resident));
        continue;
      }
      const InplaceRequest inplace = RequestedInplace(*a);  // engine/passes/inplace.h
      ins.donate = inplace.input;
      ins.donate_checks_aliasing = inplace.kernel_checks_aliasing;
      if (a->op == "ifelse") ifelses.push_back(exe->instructions_.size());
      exe->instructions_.push_back(std::move(ins));
    }
    std::unordered_set<int> computed;
    for (const auto& ins : exe->instructions_)
      computed.insert(ins.outputs.begin(), ins.outputs.end());
    for (const ir::Variable* o : p.graph->outputs()) {
      exe->output_slots_.push_back(slot_of(o));
      exe->output_types_.push_back(o->type);
      exe->output_contexts_.push_back(DeviceContextOf(o->owner));
    }
    exe->input_contexts_ = InputReadContexts(*p.graph, p.updates);
    for (const auto& [target, value] : p.updates) {
      int index = 0;
      while (p.canonical.shared[index] != target) ++index;
      exe->update_targets_.push_back(index);
      exe->update_slots_.push_back(slot_of(value));
      exe->update_takes_slot_.push_back(computed.count(slot_of(value)) > 0);
    }
    // A computed slot given to two updates must not move out twice.
    for (size_t i = 0; i < exe->update_slots_.size(); ++i)
      for (size_t j = 0; j < i; ++j)
        if (exe->update_slots_[i] == exe->update_slots_[j])
          exe->update_takes_slot_[i] = exe->update_takes_slot_[j] = false;
    // Inplace only overwrites temporaries: never a caller's input, a shared value, a constant,
    // an output or an update.
    std::unordered_set<int> kept(exe->output_slots_.begin(), exe->output_slots_.end());
    kept.insert(exe->update_slots_.begin(), exe->update_slots_.end());
    for (const auto& b : exe->inputs_) kept.insert(b.slot);
    for (const auto& b : exe->shared_) kept.insert(b.slot);
    for (const auto& [slot, value] : exe->constants_) kept.insert(slot);
    // Guards and the reordering first: donations are planned on the final order, and a donor's
    // guards always include its producer's (a guarded producer feeds only guarded readers), so a
    // taken instruction never donates a slot a skipped one should have written.
    PlanLazyIfElse(exe->instructions_, ifelses, kept, exe->ifelse_cond_slots_);
    PlanDonations(exe->instructions_, kept);
    exe->keep_intermediates_ = p.options.keep_intermediates;
    if (!exe->keep_intermediates_) {
      // Guards read an ifelse's condition outside the instructions' inputs: never dropped early.
      kept.insert(exe->ifelse_cond_slots_.begin(), exe->ifelse_cond_slots_.end());
      PlanDrops(exe->instructions_, kept);
    }
    exe->allow_input_downcast_ = p.options.allow_input_downcast;
    exe->fingerprint_ = ir::Digest(p.canonical.key);
    exe->graph_ = std::move(p.graph);
    exe->optimizer_ns_ = stats.optimizer_ns;
    exe->nodes_before_optimization_ = stats.nodes_before;
    exe->optimizer_passes_ = std::move(stats.passes);
    const auto end = std::chrono::steady_clock::now();
    exe->validate_ns_ = p.validate_ns;
    exe->linker_ns_ =
        std::chrono::duration_cast<std::chrono::nanoseconds>(end - linker_start).count();
    // Validation ran in PrepareFunction, before this build; it is part of compiling too.
    exe->compile_ns_ =
        std::chrono::duration_cast<std::chrono::nanoseconds>(end - start).count() + p.validate_ns;
    return exe;
  }
};

absl::StatusOr<std::shared_ptr<Executable>> BuildPlainExecutable(PreparedFunction prepared) {
  return ExecutableBuilder::Build(std::move(prepared));
}

}  // namespace tensord::compile
