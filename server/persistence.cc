#include "server/persistence.h"

#include <chrono>
#include <set>

#include "engine/frontend/proto_convert.h"
#include "engine/runtime/memory_stats.h"
#include "server/state.pb.h"
#include "spdlog/spdlog.h"

namespace tensord::server {
namespace {

int64_t UnixSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

double MillisecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
      .count();
}

}  // namespace

Persistence::Persistence(std::unique_ptr<StateDir> dir, SessionManager* sessions,
                         FunctionService* functions, const context::ContextRegistry* contexts)
    : dir_(std::move(dir)), sessions_(sessions), functions_(functions), contexts_(contexts) {}

Persistence::~Persistence() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  stop_warming_ = true;
  stop_cv_.notify_all();
  if (snapshots_.joinable()) snapshots_.join();
  if (warming_.joinable()) warming_.join();
}

absl::StatusOr<SavedSession> Persistence::Save(Session& session) {
  // One save at a time: two saves of a session must not write their snapshots out of order.
  std::lock_guard<std::mutex> save_lock(save_mu_);
  // Read first: a change made while the snapshot is taken counts as unsaved.
  const uint64_t changes = session.changes();
  state::SessionSnapshot snapshot;
  snapshot.set_session_id(session.id());
  snapshot.set_client(session.client());
  snapshot.set_owner(session.owner());
  snapshot.set_tenant(session.tenant());
  snapshot.set_created_unix_s(session.created_unix_s());
  snapshot.set_saved_unix_s(UnixSeconds());
  std::vector<std::shared_ptr<context::SharedVariable>> vars;
  std::vector<runtime::Tensor> values;
  {
    // The values as one run's commit left them, never half of another's (as a Run reads them).
    auto read_lock = session.shared().ReadLock();
    vars = session.shared().List();
    for (const auto& var : vars) values.push_back(var->Get());
    snapshot.set_next_shared(session.shared().next_number());
  }
  SavedSession saved;
  std::vector<std::string> blobs;
  blobs.reserve(vars.size());
  for (size_t i = 0; i < vars.size(); ++i) {
    v1::Tensor value;
    ir::TensorToProto(values[i], &value);
    blobs.push_back(value.SerializeAsString());
    state::SharedSnapshot* s = snapshot.add_shared();
    s->set_id(vars[i]->id());
    s->set_name(vars[i]->name());
    ir::TypeToProto(vars[i]->type(), s->mutable_type());
    s->set_context(vars[i]->context()->name);
    s->set_value_bytes(static_cast<int64_t>(blobs.back().size()));
    saved.bytes += s->value_bytes();
  }
  for (auto& [id, spec] : session.FunctionSpecs()) {
    state::FunctionSnapshot* f = snapshot.add_functions();
    f->set_id(id);
    *f->mutable_spec() = std::move(spec);
  }
  snapshot.set_next_function(session.next_function_number());
  TENSORD_RETURN_IF_ERROR(dir_->WriteSession(session.id(), snapshot, blobs));
  {
    std::lock_guard<std::mutex> lock(mu_);
    saved_changes_[session.id()] = changes;
  }
  saved.bytes += static_cast<int64_t>(snapshot.ByteSizeLong());
  saved.shared_variables = snapshot.shared_size();
  saved.functions = snapshot.functions_size();
  return saved;
}

void Persistence::SaveChanged() {
  for (const auto& session : sessions_->List()) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = saved_changes_.find(session->id());
      if (it != saved_changes_.end() && it->second == session->changes()) continue;
    }
    if (absl::Status s = Save(*session).status(); !s.ok()) {
      spdlog::error("--state_dir: {} was not saved: {}", session->log_name(),
                    std::string(s.message()));
    }
  }
  dir_->RemoveStaleSessions([this] {
    std::set<std::string> live;
    for (const auto& session : sessions_->List()) live.insert(session->id());
    std::lock_guard<std::mutex> lock(mu_);
    for (auto it = saved_changes_.begin(); it != saved_changes_.end();) {
      it = live.count(it->first) ? std::next(it) : saved_changes_.erase(it);
    }
    return live;
  });
}

void Persistence::Forget(const std::string& session_id) {
  dir_->RemoveSession(session_id);
  std::lock_guard<std::mutex> lock(mu_);
  saved_changes_.erase(session_id);
}

absl::Status Persistence::Restore(const Record& record, SavedSession* restored) {
  state::SessionSnapshot snapshot;
  std::shared_ptr<Session> session;
  absl::Status s = RestoreInto(record, snapshot, session);
  if (!s.ok()) {
    // Not half a session: what was restored of it goes again.
    if (session != nullptr) sessions_->Close(session->id(), session->owner()).IgnoreError();
    return s;
  }
  restored->bytes += static_cast<int64_t>(record.bytes.size());
  restored->shared_variables += snapshot.shared_size();
  restored->functions += snapshot.functions_size();
  return absl::OkStatus();
}

absl::Status Persistence::RestoreInto(const Record& record, state::SessionSnapshot& snapshot,
                                      std::shared_ptr<Session>& session) {
  if (!snapshot.ParseFromArray(record.header().data(), static_cast<int>(record.header().size()))) {
    return absl::DataLossError("the snapshot's header does not parse");
  }
  TENSORD_ASSIGN_OR_RETURN(
      session, sessions_->Adopt(snapshot.session_id(), snapshot.client(),
                                Principal{.owner = snapshot.owner(), .tenant = snapshot.tenant()},
                                snapshot.created_unix_s()));
  absl::string_view blobs = record.blobs();
  for (const state::SharedSnapshot& s : snapshot.shared()) {
    if (s.value_bytes() < 0 || static_cast<uint64_t>(s.value_bytes()) > blobs.size()) {
      return absl::DataLossError(absl::StrCat("shared variable ", s.id(), " is cut short"));
    }
    v1::Tensor proto;
    if (!proto.ParseFromArray(blobs.data(), static_cast<int>(s.value_bytes()))) {
      return absl::DataLossError(absl::StrCat("shared variable ", s.id(), " does not parse"));
    }
    blobs.remove_prefix(static_cast<size_t>(s.value_bytes()));
    auto context = contexts_->Find(s.context());
    if (!context.ok()) {
      spdlog::warn(
          "--state_dir: {}'s {} lived on context {}, which this server lacks: it is "
          "restored on {}",
          session->log_name(), s.id(), s.context(), contexts_->default_context().name);
      context = &contexts_->default_context();
    }
    runtime::ScopedMemoryContext memory_scope((*context)->memory);  // the value is its memory
    TENSORD_ASSIGN_OR_RETURN(runtime::Tensor value, ir::TensorFromProto(proto));
    TENSORD_ASSIGN_OR_RETURN(ir::Type type, ir::TypeFromProto(s.type()));
    session->shared().Restore(s.id(), s.name(), std::move(type), *context, std::move(value));
  }
  session->shared().set_next_number(snapshot.next_shared());
  for (const state::FunctionSnapshot& f : snapshot.functions()) {
    session->AddRestoredFunction(f.id(), f.spec());
  }
  session->set_next_function_number(snapshot.next_function());
  std::lock_guard<std::mutex> lock(mu_);
  saved_changes_[session->id()] = session->changes();
  return absl::OkStatus();
}

void Persistence::RestoreSessions() {
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::string> problems;
  std::vector<Record> records = dir_->ReadSessions(&problems);
  for (const std::string& problem : problems) spdlog::warn("--state_dir: {}", problem);
  SavedSession total;
  int sessions = 0;
  for (const Record& record : records) {
    if (absl::Status s = Restore(record, &total); s.ok()) {
      ++sessions;
    } else {
      spdlog::error("--state_dir: a saved session was not restored: {}", s.ToString());
    }
  }
  spdlog::info(
      "--state_dir {}: restored {} sessions ({} shared variables, {} functions, {} "
      "bytes) in {:.1f} ms",
      dir_->dir(), sessions, total.shared_variables, total.functions, total.bytes,
      MillisecondsSince(start));
}

void Persistence::RememberCompiled(const std::string& key, const v1::FunctionSpec& spec,
                                   const std::map<std::string, SharedDecl>& shared) {
  state::CompiledSpec saved;
  saved.set_key(key);
  *saved.mutable_spec() = spec;
  for (const auto& [id, decl] : shared) {
    state::SharedDecl* d = saved.add_shared();
    d->set_id(id);
    ir::TypeToProto(decl.type, d->mutable_type());
    d->set_context(decl.context);
  }
  if (absl::Status s = dir_->WriteCompiled(key, saved); !s.ok()) {
    spdlog::warn("--state_dir: a compiled spec was not saved: {}", std::string(s.message()));
  }
}

void Persistence::WarmCache(size_t max_entries) {
  warming_ = std::thread([this, max_entries] { WarmLoop(max_entries); });
}

void Persistence::WarmLoop(size_t max_entries) {
  const auto start = std::chrono::steady_clock::now();
  int built = 0, stale = 0;
  std::string why;  // the first drop's reason
  for (const Record& record : dir_->ReadCompiled(max_entries)) {
    if (stop_warming_) return;
    state::CompiledSpec saved;
    absl::Status s;
    if (!saved.ParseFromArray(record.header().data(), static_cast<int>(record.header().size()))) {
      s = absl::DataLossError("the spec does not parse");
    } else {
      std::map<std::string, SharedDecl> decls;
      for (const state::SharedDecl& d : saved.shared()) {
        auto type = ir::TypeFromProto(d.type());
        if (type.ok()) decls[d.id()] = SharedDecl{*std::move(type), d.context()};
      }
      s = functions_->Warm(saved.key(), saved.spec(),
                           [&decls](const std::string& id) -> absl::StatusOr<SharedDecl> {
                             auto it = decls.find(id);
                             if (it == decls.end()) return NotFound("no saved shared ", id);
                             return it->second;
                           });
    }
    if (s.ok()) {
      ++built;
    } else {
      // Saved by another version, or for a context this server lacks: of no use any more.
      if (stale++ == 0) why = absl::StrCat(" (", s.ToString(), ")");
      dir_->RemoveCompiled(saved.key());
    }
  }
  spdlog::info("--state_dir: warmed the compile cache with {} functions in {:.1f} ms; {} dropped{}",
               built, MillisecondsSince(start), stale, why);
}

void Persistence::Start(std::chrono::seconds interval) {
  if (interval.count() <= 0) return;
  snapshots_ = std::thread([this, interval] { SnapshotLoop(interval); });
}

void Persistence::SnapshotLoop(std::chrono::seconds interval) {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_cv_.wait_for(lock, interval, [this] { return stopping_; })) {
    lock.unlock();
    SaveChanged();
    lock.lock();
  }
}

}  // namespace tensord::server
