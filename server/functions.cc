#include "server/functions.h"

#include <algorithm>
#include <chrono>
#include <limits>
#include <optional>
#include <tuple>

#include "engine/backends/cpu/broadcast.h"
#include "engine/compile/compiler.h"
#include "engine/compile/modes.h"
#include "engine/frontend/printer.h"
#include "engine/frontend/proto_convert.h"
#include "engine/passes/pipeline.h"
#include "engine/runtime/interrupt.h"

namespace tensord::server {
namespace {

const char* const kModes[] = {"FAST_RUN", "FAST_COMPILE", "DebugMode", "NanGuardMode", "Mode"};

}  // namespace

SharedLookup SharedIn(Session& session) {
  return [&session](const std::string& id) -> absl::StatusOr<SharedDecl> {
    TENSORD_ASSIGN_OR_RETURN(auto var, session.shared().Find(id));
    return SharedDecl{var->type(), var->context()->name};
  };
}

absl::Status CheckSharedReferences(const ir::Graph& graph, const SharedLookup& shared) {
  for (const auto& v : graph.variables()) {
    if (v->source != ir::Source::kShared) continue;
    TENSORD_ASSIGN_OR_RETURN(SharedDecl var, shared(v->shared_id));
    if (!(var.type == v->type)) {
      return InvalidArgument("shared variable '", v->shared_id, "' has type ",
                             ir::TypeString(var.type), " but the graph uses it as ",
                             ir::TypeString(v->type));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckGraphSize(const v1::Graph& graph, int64_t limit) {
  if (limit <= 0) return absl::OkStatus();
  int64_t nodes = 0;
  std::vector<const v1::Graph*> pending{&graph};
  while (!pending.empty()) {
    const v1::Graph* g = pending.back();
    pending.pop_back();
    nodes += g->applies_size();
    for (const v1::Apply& a : g->applies())
      for (const v1::Graph& body : a.bodies()) pending.push_back(&body);
  }
  if (nodes <= limit) return absl::OkStatus();
  return absl::ResourceExhaustedError(absl::StrCat("the graph has ", nodes, " nodes; the limit is ",
                                                   limit, " (--max_graph_nodes)"));
}

absl::StatusOr<compile::PreparedFunction> FunctionService::Prepare(
    const SharedLookup& shared, const v1::FunctionSpec& spec) const {
  std::string mode = spec.mode().empty() ? "FAST_RUN" : spec.mode();
  if (std::find(std::begin(kModes), std::end(kModes), mode) == std::end(kModes)) {
    return InvalidArgument("unknown mode '", mode,
                           "' (expected FAST_RUN, FAST_COMPILE, DebugMode or NanGuardMode)");
  }
  TENSORD_ASSIGN_OR_RETURN(const context::Context* context,
                           contexts_->FindNameOrDevice(spec.context()));
  TENSORD_ASSIGN_OR_RETURN(ir::DecodedGraph decoded, ir::GraphFromProto(spec.graph()));
  TENSORD_RETURN_IF_ERROR(CheckSharedReferences(decoded.graph, shared));
  std::vector<compile::Substitution> updates, givens;
  for (const v1::Update& u : spec.updates()) {
    TENSORD_ASSIGN_OR_RETURN(auto* var, decoded.Lookup(u.variable(), "update"));
    TENSORD_ASSIGN_OR_RETURN(auto* value, decoded.Lookup(u.value(), "update value"));
    updates.push_back({var, value});
  }
  for (const v1::Given& g : spec.givens()) {
    TENSORD_ASSIGN_OR_RETURN(auto* var, decoded.Lookup(g.variable(), "given"));
    TENSORD_ASSIGN_OR_RETURN(auto* value, decoded.Lookup(g.value(), "given value"));
    givens.push_back({var, value});
  }
  compile::CompileOptions options;
  options.allow_input_downcast = spec.allow_input_downcast();
  options.mode = mode;
  options.context = context;
  options.contexts = contexts_;
  options.cpu_fallback = spec.cpu_fallback();
  options.keep_intermediates = spec.keep_intermediates();
  for (const auto& v : decoded.graph.variables()) {
    if (v->source != ir::Source::kShared) continue;
    TENSORD_ASSIGN_OR_RETURN(SharedDecl var, shared(v->shared_id));
    options.shared_context[v->shared_id] = var.context;
  }
  // optimizer=None excludes every pass; unknown names are refused by PrepareFunction.
  if (spec.no_optimizer()) {
    options.optimizer_excluding = passes::Pipeline::AllPassNames();
  } else {
    options.optimizer_excluding.assign(spec.optimizer_excluding().begin(),
                                       spec.optimizer_excluding().end());
  }
  if (spec.has_nan_guard()) {
    options.nan_guard = {.nan_is_error = spec.nan_guard().nan_is_error(),
                         .inf_is_error = spec.nan_guard().inf_is_error(),
                         .big_is_error = spec.nan_guard().big_is_error()};
  }
  auto graph = std::make_unique<ir::Graph>(std::move(decoded.graph));
  return compile::PrepareFunction(std::move(graph), std::move(updates), givens, options);
}

absl::StatusOr<Function> FunctionService::Bind(Session& session, const v1::FunctionSpec& spec,
                                               bool* hit) {
  // The shared variables the spec reads, as compiled: what a saved spec needs to compile again.
  std::map<std::string, SharedDecl> read;
  SharedLookup in_session = SharedIn(session);
  SharedLookup recording = [&](const std::string& id) -> absl::StatusOr<SharedDecl> {
    TENSORD_ASSIGN_OR_RETURN(SharedDecl decl, in_session(id));
    read[id] = decl;
    return decl;
  };
  TENSORD_ASSIGN_OR_RETURN(compile::PreparedFunction prepared, Prepare(recording, spec));
  Function fn;
  fn.name = spec.name();
  fn.spec = spec;
  TENSORD_ASSIGN_OR_RETURN(fn.context, contexts_->FindNameOrDevice(spec.context()));
  for (const ir::Variable* s : prepared.canonical.shared) {
    TENSORD_ASSIGN_OR_RETURN(auto var, session.shared().Find(s->shared_id));
    fn.shared.push_back(std::move(var));
  }
  const std::string key = prepared.canonical.key;
  TENSORD_ASSIGN_OR_RETURN(fn.executable, GetOrBuild(std::move(prepared), hit));
  if (!*hit && on_compiled_) on_compiled_(key, spec, read);
  if (spec.profile()) {
    fn.profile = std::make_shared<FunctionProfile>(
        fn.executable->instructions().size(),
        MemoryProfileOptions{spec.profile_memory(), fn.context->name, fn.context->device});
  }
  return fn;
}

absl::Status FunctionService::Compile(Session& session, const v1::FunctionSpec& spec,
                                      v1::CompileResponse* out) {
  auto start = std::chrono::steady_clock::now();
  // Refused before compiling: a session at its function limit gets no compile work done.
  TENSORD_RETURN_IF_ERROR(session.CheckRoomForFunction());
  bool hit = false;
  TENSORD_ASSIGN_OR_RETURN(Function fn, Bind(session, spec, &hit));
  out->set_fingerprint(fn.executable->fingerprint());
  out->set_cache_hit(hit);
  out->set_node_count(fn.executable->node_count());
  out->set_nodes_before_optimization(fn.executable->nodes_before_optimization());
  out->set_optimizer_ns(hit ? 0 : fn.executable->optimizer_ns());
  for (const auto& p : fn.executable->input_params())
    ir::TypeToProto(p.type, out->add_input_types());
  for (const auto& t : fn.executable->output_types()) ir::TypeToProto(t, out->add_output_types());
  TENSORD_ASSIGN_OR_RETURN(std::string function_id, session.AddFunction(std::move(fn)));
  out->set_function_id(function_id);
  out->set_compile_ns(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - start)
          .count());
  return absl::OkStatus();
}

absl::StatusOr<std::shared_ptr<const Function>> FunctionService::Find(Session& session,
                                                                      const std::string& id) {
  auto found = session.FindFunction(id);
  if (found.ok() || !absl::IsNotFound(found.status())) return found;
  std::optional<v1::FunctionSpec> spec = session.RestoredSpec(id);
  if (!spec.has_value()) return found.status();
  bool hit = false;
  auto fn = Bind(session, *spec, &hit);
  if (!fn.ok()) {
    // NOT_FOUND would read as "no such function": it is the function's shared variable that is
    // gone, as FAILED_PRECONDITION says for a compiled function.
    const auto code =
        absl::IsNotFound(fn.status()) ? absl::StatusCode::kFailedPrecondition : fn.status().code();
    return absl::Status(code, absl::StrCat("function '", id, "', restored from --state_dir, ",
                                           "does not compile any more: ", fn.status().message()));
  }
  fn->id = id;
  return session.InstallRestored(*std::move(fn));
}

absl::Status FunctionService::Warm(const std::string& key, const v1::FunctionSpec& spec,
                                   const SharedLookup& shared) {
  TENSORD_ASSIGN_OR_RETURN(compile::PreparedFunction prepared, Prepare(shared, spec));
  if (prepared.canonical.key != key) {
    return FailedPrecondition("the spec compiles to another key now (saved by another version)");
  }
  bool hit = false;
  return GetOrBuild(std::move(prepared), &hit).status();
}

absl::StatusOr<std::shared_ptr<compile::Executable>> FunctionService::GetOrBuild(
    compile::PreparedFunction prepared, bool* hit) {
  const std::string key = prepared.canonical.key;
  return cache_->GetOrBuild(
      key,
      [&] {
        // Only misses build, so this times exactly what the cache saves.
        ScopedTimer timer([&](double s) { metrics_->RecordCompileMiss(s); });
        return compile::BuildExecutable(std::move(prepared));
      },
      hit);
}

namespace {
// `t`'s elements alone in a new buffer of the context holding it (a GPU's through the host).
absl::StatusOr<runtime::Tensor> ElementsAlone(const runtime::Tensor& t) {
  runtime::MemoryCounter* context = t.buffer()->counter();
  if (t.host_accessible()) {
    runtime::ScopedMemoryContext on(context);
    return cpu::Copy(t);
  }
  TENSORD_ASSIGN_OR_RETURN(runtime::Tensor host, cpu::HostContiguous(t));
  return runtime::IntoContext(std::move(host), context);
}

// A device array's bytes read on the host, counted as a transfer of its context.
void CountDeviceToHost(const DeviceArray& array) {
  array.context->memory->Transferred(runtime::TransferDirection::kDeviceToHost,
                                     static_cast<int64_t>(array.value.num_bytes()));
}
}  // namespace

namespace {
// INVALID_ARGUMENT unless `request`'s output slots name host outputs of the function, with
// ranges inside their regions that do not overlap, NOT_FOUND unless their regions are
// registered: checked before running, so a bad request costs no compute.
absl::Status CheckOutputSlots(const v1::RunRequest& request,
                              const std::vector<std::string>& output_contexts,
                              const SharedMemoryRegions& regions) {
  const int slots = request.output_slots_size();
  if (slots > static_cast<int>(output_contexts.size())) {
    return InvalidArgument("output_slots has ", slots, " entries; the function has ",
                           output_contexts.size(), " outputs");
  }
  struct Range {
    const std::string* region;
    int64_t start, end;
    int output;
  };
  std::vector<Range> ranges;
  for (int i = 0; i < slots; ++i) {
    const v1::ShmSlot& slot = request.output_slots(i);
    if (slot.region().empty()) continue;
    if (!output_contexts[i].empty()) {
      return InvalidArgument("output ", i, " stays on ", output_contexts[i],
                             " as a device array; it takes no shared-memory slot");
    }
    if (slot.offset() < 0 || slot.byte_size() < 0 ||
        slot.byte_size() > std::numeric_limits<int64_t>::max() - slot.offset()) {
      return InvalidArgument("output ", i, ": a slot of ", slot.byte_size(), " bytes from offset ",
                             slot.offset());
    }
    TENSORD_RETURN_IF_ERROR(regions.CheckSlot(slot, absl::StrCat("output ", i)));
    ranges.push_back({&slot.region(), slot.offset(), slot.offset() + slot.byte_size(), i});
  }
  // Overlapping slots would have one output overwrite another's bytes without a word.
  std::sort(ranges.begin(), ranges.end(), [](const Range& a, const Range& b) {
    return std::tie(*a.region, a.start) < std::tie(*b.region, b.start);
  });
  for (size_t k = 1; k < ranges.size(); ++k) {
    const Range& a = ranges[k - 1];
    const Range& b = ranges[k];
    if (*a.region == *b.region && b.start < a.end) {
      return InvalidArgument("the shared-memory slots of outputs ", a.output, " and ", b.output,
                             " overlap in region '", *a.region, "'");
    }
  }
  return absl::OkStatus();
}
}  // namespace

absl::StatusOr<std::vector<runtime::Tensor>> FunctionService::RunInputs(
    Session& session, const compile::Executable& exe, const RunCall& call) const {
  const v1::RunRequest& request = call.message;
  std::vector<runtime::Tensor> inputs;
  auto with_index = [](int i, const absl::Status& s) {
    return absl::Status(s.code(), absl::StrCat("input ", i, ": ", s.message()));
  };
  auto decode = [&](int i, const v1::Tensor& proto, const std::optional<WireBytes>& data) {
    absl::StatusOr<runtime::Tensor> t = call.TensorOf(proto, data);
    if (!t.ok()) return with_index(i, t.status());
    inputs.push_back(*std::move(t));
    return absl::OkStatus();
  };
  for (int i = 0; i < request.inputs_size(); ++i)
    TENSORD_RETURN_IF_ERROR(decode(i, request.inputs(i), call.input_data[i]));
  if (request.args_size() == 0) return inputs;
  if (!inputs.empty()) return InvalidArgument("a run takes `inputs` or `args`, not both");
  for (int i = 0; i < request.args_size(); ++i) {
    const v1::Value& arg = request.args(i);
    if (arg.has_tensor()) {
      TENSORD_RETURN_IF_ERROR(decode(i, arg.tensor(), call.arg_data[i]));
      continue;
    }
    if (arg.has_shm()) {
      TENSORD_ASSIGN_OR_RETURN(runtime::Tensor t,
                               session.shared_memory().Read(arg.shm(), absl::StrCat("input ", i)));
      metrics_->RecordSharedMemoryRead(static_cast<int64_t>(t.num_bytes()));
      inputs.push_back(std::move(t));
      continue;
    }
    if (!arg.has_ref()) return InvalidArgument("input ", i, ": an empty value");
    auto array = session.arrays().Find(arg.ref().id());
    if (!array.ok()) return with_index(i, array.status());
    const bool read_there = i < static_cast<int>(exe.input_contexts().size()) &&
                            exe.input_contexts()[i] == array->context->name;
    if (read_there) {
      inputs.push_back(std::move(array->value));
      continue;
    }
    // Read on the host (or elsewhere, through the host): a device-to-host copy on the server.
    TENSORD_ASSIGN_OR_RETURN(runtime::Tensor host, runtime::OnHost(array->value));
    inputs.push_back(host.buffer() == array->value.buffer() ? cpu::Copy(host) : std::move(host));
    CountDeviceToHost(*array);
  }
  return inputs;
}

absl::Status FunctionService::FetchRef(Session& session, const std::string& id,
                                       v1::FetchRefResponse* out) const {
  TENSORD_ASSIGN_OR_RETURN(DeviceArray array, session.arrays().Find(id));
  auto too_big = [&](int64_t bytes) {
    return absl::ResourceExhaustedError(absl::StrCat("device array '", id, "' takes ", bytes,
                                                     " bytes; a reply may take ", max_reply_bytes_,
                                                     " (--max_message_bytes)"));
  };
  const int64_t elements = static_cast<int64_t>(array.value.num_bytes());
  if (max_reply_bytes_ > 0 && elements > max_reply_bytes_) return too_big(elements);  // no copy
  TENSORD_ASSIGN_OR_RETURN(runtime::Tensor host, runtime::OnHost(array.value));
  ir::TensorToProto(host, out->mutable_value());
  const int64_t reply = static_cast<int64_t>(out->ByteSizeLong());
  if (max_reply_bytes_ > 0 && reply > max_reply_bytes_) return too_big(reply);
  CountDeviceToHost(array);
  return absl::OkStatus();
}

absl::Status FunctionService::Run(Session& session, const RunCall& call, RunReply* reply) {
  const v1::RunRequest& request = call.message;
  v1::RunResponse* out = &reply->message;
  auto start = std::chrono::steady_clock::now();
  metrics_->runs_in_flight().Increment();
  ScopedTimer timer([&](double seconds) {
    metrics_->runs_in_flight().Decrement();
    metrics_->RecordRun(seconds);
  });
  // First, so the run can use the memory they held.
  session.arrays()
      .Release({request.release().begin(), request.release().end()}, /*ignore_unknown=*/true)
      .IgnoreError();
  TENSORD_ASSIGN_OR_RETURN(auto fn, Find(session, request.function_id()));
  const compile::Executable& exe = *fn->executable;
  TENSORD_RETURN_IF_ERROR(
      CheckOutputSlots(request, exe.output_contexts(), session.shared_memory()));
  // Inputs, host intermediates and outputs are host memory: the function's context's when that
  // is a host context, else cpu's (nodes placed on a device charge their own context).
  runtime::ScopedMemoryContext memory_scope(
      fn->context->is_device() ? runtime::MemoryCounterFor("cpu") : fn->context->memory);
  TENSORD_ASSIGN_OR_RETURN(std::vector<runtime::Tensor> inputs, RunInputs(session, exe, call));
  // Lock the variables this run updates (in id order, so concurrent runs cannot deadlock),
  // then read every shared value: an update's read-modify-write is atomic.
  std::vector<context::SharedVariable*> targets;
  for (int t : exe.update_targets()) targets.push_back(fn->shared[t].get());
  std::sort(targets.begin(), targets.end(), [](auto* a, auto* b) { return a->id() < b->id(); });
  std::vector<std::unique_lock<std::mutex>> locks;
  for (auto* t : targets) locks.emplace_back(t->update_mutex());
  // Waiting for those locks (or for a thread) may have outlived the client's patience.
  TENSORD_RETURN_IF_ERROR(runtime::CheckInterrupted());
  std::vector<runtime::Tensor> shared_values;
  {
    auto read_lock = session.shared().ReadLock();  // one consistent snapshot
    for (const auto& var : fn->shared) {
      if (var->deleted()) {
        return FailedPrecondition("shared variable '",
                                  var->name().empty() ? var->id() : var->name(),
                                  "' used by this function was deleted");
      }
      shared_values.push_back(var->Get());
    }
  }
  // The device buffers this run allocates count against its tenant's quota with what the
  // tenant holds and its other runs hold: no run takes a device's memory past it.
  std::optional<runtime::ScopedDeviceQuota> quota;
  if (session.tenant_device() != nullptr) quota.emplace(session.tenant_device());
  compile::RunTrace trace;
  trace.record_memory = fn->profile && fn->profile->records_memory();
  TENSORD_ASSIGN_OR_RETURN(compile::RunResult result, exe.Run(std::move(inputs), shared_values,
                                                              fn->profile ? &trace : nullptr));
  // Everything that can still fail happens before the commit: once updates are stored the call
  // must succeed, or a client told of an error would apply them again on retry.
  std::vector<const context::Context*> on_device(result.outputs.size(), nullptr);
  int64_t resident_bytes = 0;
  for (size_t i = 0; i < result.outputs.size(); ++i) {
    v1::Value* value = out->add_outputs();
    runtime::Tensor& t = result.outputs[i];
    const std::string& where = exe.output_contexts()[i];
    if (where.empty()) {
      if (i < static_cast<size_t>(request.output_slots_size()) &&
          !request.output_slots(i).region().empty()) {
        // A client that stopped waiting may be using the slot's memory again: write nothing.
        TENSORD_RETURN_IF_ERROR(runtime::CheckInterrupted());
        v1::ShmTensor written;
        TENSORD_ASSIGN_OR_RETURN(
            bool fits, session.shared_memory().Write(request.output_slots(i), t,
                                                     absl::StrCat("output ", i), &written));
        if (fits) {
          metrics_->RecordSharedMemoryWritten(static_cast<int64_t>(t.num_bytes()));
          *value->mutable_shm() = std::move(written);
          continue;
        }
      }
      if (t.num_bytes() < RunReply::kZeroCopyBytes) {
        ir::TensorToProto(t, value->mutable_tensor());
        continue;
      }
      // Its bytes go into the reply as its own buffer (server/run_codec.h).
      v1::Tensor* head = value->mutable_tensor();
      head->set_dtype(static_cast<v1::DType>(t.dtype()));
      for (int64_t d : t.shape()) head->add_shape(d);
      reply->output_data.resize(result.outputs.size());
      reply->output_data[i] = cpu::Contiguous(t);
      continue;
    }
    TENSORD_ASSIGN_OR_RETURN(on_device[i], contexts_->Find(where));
    if (t.buffer() != nullptr && t.buffer()->bytes() > t.num_bytes()) {
      // A view would keep its whole buffer resident while the budgets charge only its
      // elements (as for updates below): the elements alone, on the device.
      TENSORD_ASSIGN_OR_RETURN(t, ElementsAlone(t));
    }
    DeviceArrayStore::Describe({t, on_device[i]}, value->mutable_ref());
    resident_bytes += static_cast<int64_t>(t.num_bytes());
  }
  // Device arrays and update growth are checked together (at commit when there are updates).
  if (result.updates.empty()) TENSORD_RETURN_IF_ERROR(session.arrays().CheckRoom(resident_bytes));
  if (max_reply_bytes_ > 0 && reply->ByteSize() > max_reply_bytes_) {
    return absl::ResourceExhaustedError(
        absl::StrCat("the outputs take ", reply->ByteSize(), " bytes; a reply may take ",
                     max_reply_bytes_, " (--max_message_bytes); no update was stored"));
  }
  for (runtime::Tensor& t : result.updates) {
    // A view (x[:1] of a big input) would keep its whole buffer resident while the budgets
    // charge only its elements: store the elements alone.
    if (t.buffer() != nullptr && t.buffer()->bytes() > t.num_bytes()) {
      TENSORD_ASSIGN_OR_RETURN(t, ElementsAlone(t));
    }
  }
  if (!result.updates.empty()) {
    auto commit_lock = session.shared().CommitLock();
    // The last moment to honour the deadline: a client told DEADLINE_EXCEEDED must find no
    // update stored, or its retry applies it twice. Past this check all updates land together.
    TENSORD_RETURN_IF_ERROR(runtime::CheckInterrupted());
    int64_t growth = resident_bytes;
    for (size_t i = 0; i < result.updates.size(); ++i) {
      growth += static_cast<int64_t>(result.updates[i].num_bytes()) -
                static_cast<int64_t>(shared_values[exe.update_targets()[i]].num_bytes());
    }
    TENSORD_RETURN_IF_ERROR(session.shared().CheckGrowth(growth));
    for (size_t i = 0; i < result.updates.size(); ++i) {
      // Resident from now on: the tenant's byte budget counts it, not its device quota.
      if (result.updates[i].buffer()) result.updates[i].buffer()->ReleaseQuota();
      fn->shared[exe.update_targets()[i]]->Set(std::move(result.updates[i]));
    }
  }
  locks.clear();
  // Outputs left on a device stay there as device arrays; the reply carries references.
  for (size_t i = 0; i < on_device.size(); ++i) {
    if (on_device[i] == nullptr) continue;
    if (result.outputs[i].buffer()) result.outputs[i].buffer()->ReleaseQuota();  // as updates
    session.arrays().Hold(out->outputs(static_cast<int>(i)).ref(),
                          {std::move(result.outputs[i]), on_device[i]});
  }
  int64_t run_ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - start)
          .count();
  out->mutable_profile()->set_run_ns(run_ns);
  if (fn->profile) fn->profile->Record(trace, run_ns, &exe);
  fn->calls->fetch_add(1, std::memory_order_relaxed);
  return absl::OkStatus();
}

absl::StatusOr<std::shared_ptr<const Function>> FunctionService::FindProfiled(
    Session& session, const std::string& function_id) {
  TENSORD_ASSIGN_OR_RETURN(auto fn, Find(session, function_id));
  if (fn->profile == nullptr) {
    return FailedPrecondition("function ", fn->name.empty() ? function_id : fn->name,
                              " was compiled without profile=True");
  }
  return fn;
}

absl::Status FunctionService::GetProfile(Session& session, const v1::GetProfileRequest& request,
                                         v1::GetProfileResponse* out) {
  TENSORD_ASSIGN_OR_RETURN(auto fn, FindProfiled(session, request.function_id()));
  fn->profile->Fill(fn->name, *fn->executable, request.client_call_ns(),
                    request.optimizer_profile(), out);
  return absl::OkStatus();
}

absl::Status FunctionService::ResetProfile(Session& session, const std::string& function_id) {
  TENSORD_ASSIGN_OR_RETURN(auto fn, FindProfiled(session, function_id));
  fn->profile->Reset();
  return absl::OkStatus();
}

absl::Status FunctionService::Describe(Session& session, const std::string& function_id,
                                       v1::DescribeFunctionResponse* out) {
  TENSORD_ASSIGN_OR_RETURN(auto fn, Find(session, function_id));
  // The cached executable may have been built from another session's identical graph, with
  // that session's names and shared-variable ids: describe this function's own graph instead,
  // optimized by the same (deterministic) pipeline, so it shows what runs.
  TENSORD_ASSIGN_OR_RETURN(compile::PreparedFunction prepared,
                           Prepare(SharedIn(session), fn->spec));
  TENSORD_RETURN_IF_ERROR(compile::OptimizeFunction(prepared).status());
  ir::GraphToProto(*prepared.graph, out->mutable_graph());
  // Printed as Theano prints a compiled function: schedule positions, update values as roots.
  ir::PrintOptions print{.print_order = true};
  for (const auto& [target, value] : prepared.updates) print.extra_roots.push_back(value);
  out->set_debugprint(ir::DebugPrint(*prepared.graph, print));
  out->set_dot(ir::DotPrint(*prepared.graph, print));
  return absl::OkStatus();
}

}  // namespace tensord::server
