#include "server/persistence.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "engine/backends/cpu/broadcast.h"
#include "engine/frontend/proto_convert.h"
#include "engine/runtime/memory_stats.h"
#include "server/random_id.h"
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

// Far beyond any count a server reaches, and far from overflowing when counted on from.
constexpr int64_t kMaxIdNumber = int64_t{1} << 48;

// N of an id "<prefix>N" (0 for any other id): restored sessions hand out ids past it.
int64_t NumberAfter(const std::string& id, absl::string_view prefix) {
  int64_t n = 0;
  if (!absl::StartsWith(id, prefix) || !absl::SimpleAtoi(id.substr(prefix.size()), &n)) return 0;
  return std::clamp<int64_t>(n, 0, kMaxIdNumber);
}

// A failure to decode what a whole file claims: the file is not what it says (DATA_LOSS), as
// against a limit of this server refusing it (RESOURCE_EXHAUSTED), which a later one may not.
absl::Status Claimed(absl::Status s) {
  if (s.ok() || absl::IsResourceExhausted(s)) return s;
  return absl::DataLossError(s.message());
}

// What logs say of a saved session: a prefix of its key, never its id.
std::string KeyLabel(const std::string& key) { return "saved session " + key.substr(0, 12); }

}  // namespace

Persistence::Persistence(std::unique_ptr<StateDir> dir, SessionManager* sessions,
                         FunctionService* functions, const context::ContextRegistry* contexts)
    : dir_(std::move(dir)), sessions_(sessions), functions_(functions), contexts_(contexts) {}

Persistence::~Persistence() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  stop_cv_.notify_all();
  if (snapshots_.joinable()) snapshots_.join();
  if (warming_.joinable()) warming_.join();
}

absl::StatusOr<SavedSession> Persistence::Save(Session& session) {
  std::lock_guard<std::mutex> lock(session.snapshot_mutex());
  return SaveLocked(session);
}

absl::StatusOr<SavedSession> Persistence::SaveLocked(Session& session) {
  // Checked under the snapshot lock, which Forget takes too: a closed session's snapshot is
  // never written after its files were removed.
  if (session.closed()) return FailedPrecondition("the session is closed");
  // Read first: a change made while the snapshot is taken counts as unsaved.
  const uint64_t changes = session.changes();
  state::SessionSnapshot snapshot;
  snapshot.set_session_id(session.id());
  snapshot.set_client(session.client());
  snapshot.set_owner(session.owner());
  snapshot.set_tenant(session.tenant());
  snapshot.set_created_unix_s(session.created_unix_s());
  snapshot.set_last_used_unix_s(session.last_used_unix_s());
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
  // The values' own bytes go to the file: no copy unless one is a strided view.
  std::vector<absl::string_view> blobs;
  for (size_t i = 0; i < vars.size(); ++i) {
    TENSORD_ASSIGN_OR_RETURN(values[i], runtime::OnHost(values[i]));  // a GPU's: copied out
    if (!values[i].is_contiguous()) values[i] = cpu::Copy(values[i]);
    blobs.emplace_back(static_cast<const char*>(values[i].raw()), values[i].num_bytes());
    state::SharedSnapshot* s = snapshot.add_shared();
    s->set_id(vars[i]->id());
    s->set_name(vars[i]->name());
    ir::TypeToProto(vars[i]->type(), s->mutable_type());
    s->set_context(vars[i]->context()->name);
    for (int64_t d : values[i].shape()) s->add_shape(d);
    s->set_value_bytes(static_cast<int64_t>(values[i].num_bytes()));
    saved.bytes += s->value_bytes();
  }
  for (auto& [id, spec] : session.FunctionSpecs()) {
    state::FunctionSnapshot* f = snapshot.add_functions();
    f->set_id(id);
    *f->mutable_spec() = std::move(spec);
  }
  snapshot.set_next_function(session.next_function_number());
  if (absl::Status s = dir_->WriteSession(StateDir::KeyOf(session.id()), snapshot, blobs);
      !s.ok()) {
    spdlog::error("--state_dir: {} was not saved: {}", session.log_name(),
                  std::string(s.message()));
    return absl::UnavailableError("the snapshot was not written (the server's log says why)");
  }
  session.saved_changes = changes;
  saved.bytes += static_cast<int64_t>(snapshot.ByteSizeLong());
  saved.shared_variables = snapshot.shared_size();
  saved.functions = snapshot.functions_size();
  return saved;
}

void Persistence::SaveChanged() {
  state::SessionClocks clocks;
  {
    // Sessions kept but not restored keep the clocks they were read with.
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [key, clock] : unrestored_clocks_) {
      (*clocks.mutable_last_used_unix_s())[key] = clock;
    }
  }
  for (const auto& session : sessions_->List()) {
    (*clocks.mutable_last_used_unix_s())[StateDir::KeyOf(session->id())] =
        session->last_used_unix_s();
    std::lock_guard<std::mutex> lock(session->snapshot_mutex());
    if (session->closed() || session->saved_changes == session->changes()) continue;
    SaveLocked(*session).IgnoreError();  // logged
  }
  // Sessions only read since their snapshot are in use all the same: their clocks say so.
  if (absl::Status s = dir_->WriteClocks(clocks); !s.ok()) {
    spdlog::warn("--state_dir: the sessions' clocks were not saved: {}", std::string(s.message()));
  }
  dir_->RemoveStaleSessions([this] {
    std::set<std::string> keep;
    for (const auto& session : sessions_->List()) keep.insert(StateDir::KeyOf(session->id()));
    std::lock_guard<std::mutex> lock(mu_);
    keep.insert(unrestored_.begin(), unrestored_.end());
    return keep;
  });
}

void Persistence::Forget(Session& session) {
  std::lock_guard<std::mutex> lock(session.snapshot_mutex());
  dir_->RemoveSession(StateDir::KeyOf(session.id()));
}

absl::StatusOr<bool> Persistence::Restore(const Record& record, const std::string& key,
                                          int64_t clock, SavedSession* restored) {
  state::SessionSnapshot snapshot;
  TENSORD_RETURN_IF_ERROR(record.ParseHeader(snapshot));
  // The checksum says the file is whole, not that it is ours: check what it claims.
  if (!IsRandomId(snapshot.session_id()) || StateDir::KeyOf(snapshot.session_id()) != key) {
    return absl::DataLossError("the snapshot names another session than its file");
  }
  if (snapshot.next_shared() < 0 || snapshot.next_shared() > kMaxIdNumber ||
      snapshot.next_function() < 0 || snapshot.next_function() > kMaxIdNumber) {
    return absl::DataLossError("the snapshot's id counters are out of range");
  }
  const int64_t now = UnixSeconds();
  const int64_t last_used =
      std::clamp<int64_t>(std::max(snapshot.last_used_unix_s(), clock), 0, now);
  const int64_t idle = now - last_used;
  if (idle > sessions_->idle_timeout().count()) return false;
  auto session = sessions_->NewRestored(
      snapshot.session_id(), snapshot.client(),
      Principal{.owner = snapshot.owner(), .tenant = snapshot.tenant()}, snapshot.created_unix_s());
  session->set_idle_seconds(idle);
  absl::string_view blobs = record.blobs();
  int64_t next_shared = snapshot.next_shared();
  for (const state::SharedSnapshot& s : snapshot.shared()) {
    const std::string what = absl::StrCat("shared variable ", s.id());
    if (s.value_bytes() < 0 || static_cast<uint64_t>(s.value_bytes()) > blobs.size()) {
      return absl::DataLossError(absl::StrCat(what, " is cut short"));
    }
    const absl::string_view bytes = blobs.substr(0, static_cast<size_t>(s.value_bytes()));
    blobs.remove_prefix(bytes.size());
    // Its shape must account for its bytes before any limit is asked: a shape that lies (or
    // overflows) is a corrupt file, not a value too big for this server.
    int64_t elements = 1;
    for (int64_t d : s.shape()) {
      if (d < 0 || (d > 0 && elements > (int64_t{1} << 62) / d)) {
        return absl::DataLossError(absl::StrCat(what, " has a bad shape"));
      }
      elements *= d;
    }
    auto dtype = ir::DTypeFromProto(s.type().dtype(), what);
    TENSORD_RETURN_IF_ERROR(Claimed(dtype.status()));
    const auto item = static_cast<int64_t>(DTypeSize(*dtype));
    if (elements > s.value_bytes() || elements * item != s.value_bytes()) {
      return absl::DataLossError(absl::StrCat(what, "'s shape does not match its bytes"));
    }
    auto context = contexts_->Find(s.context());
    if (!context.ok()) {
      spdlog::warn(
          "--state_dir: {} of {} lived on context {}, which this server lacks: it is "
          "restored on {}",
          s.id(), session->log_name(), s.context(), contexts_->default_context().name);
      context = &contexts_->default_context();
    }
    auto type = ir::TypeFromProto(s.type());
    TENSORD_RETURN_IF_ERROR(Claimed(type.status()));
    // The value is its context's memory: decoded into it, or copied in where the host cannot
    // write.
    runtime::ScopedMemoryContext memory_scope(runtime::HostWritable((*context)->memory));
    auto value = ir::TensorFromBytes(s.type().dtype(), s.shape(), bytes);
    TENSORD_RETURN_IF_ERROR(Claimed(value.status()));
    TENSORD_RETURN_IF_ERROR(Claimed(ir::CheckValueFitsType(*value, *type, what)));
    value = runtime::IntoContext(*std::move(value), (*context)->memory);
    TENSORD_RETURN_IF_ERROR(value.status());  // the device's room or failure, not the file's
    TENSORD_RETURN_IF_ERROR(Claimed(session->shared().Restore(s.id(), s.name(), *std::move(type),
                                                              *context, *std::move(value))));
    next_shared = std::max(next_shared, NumberAfter(s.id(), "shared-") + 1);
  }
  if (!blobs.empty()) return absl::DataLossError("bytes follow the last shared variable");
  session->shared().set_next_number(next_shared);
  int64_t next_function = snapshot.next_function();
  std::set<std::string> function_ids;
  for (const state::FunctionSnapshot& f : snapshot.functions()) {
    if (!function_ids.insert(f.id()).second) {
      return absl::DataLossError(absl::StrCat("function '", f.id(), "' twice"));
    }
    session->AddRestoredFunction(f.id(), f.spec());
    next_function = std::max(next_function, NumberAfter(f.id(), "fn-") + 1);
  }
  session->set_next_function_number(next_function);
  session->saved_changes = session->changes();  // as on disk
  TENSORD_RETURN_IF_ERROR(sessions_->Adopt(session));
  restored->bytes += static_cast<int64_t>(record.bytes.size());
  restored->shared_variables += snapshot.shared_size();
  restored->functions += snapshot.functions_size();
  return true;
}

void Persistence::RestoreSessions() {
  const auto start = std::chrono::steady_clock::now();
  state::SessionClocks clocks;
  if (auto record = dir_->ReadClocks(); record.ok()) record->ParseHeader(clocks).IgnoreError();
  SavedSession total;
  int sessions = 0, expired = 0, failed = 0;
  for (const std::string& key : dir_->SessionKeys()) {
    const auto clock = clocks.last_used_unix_s().find(key);
    bool done = false;
    for (auto generation : {StateDir::Generation::kCurrent, StateDir::Generation::kPrevious}) {
      const bool current = generation == StateDir::Generation::kCurrent;
      absl::StatusOr<bool> outcome = absl::UnknownError("not read");
      try {
        auto record = dir_->ReadSession(key, generation);
        outcome =
            record.ok()
                ? Restore(*record, key,
                          clock == clocks.last_used_unix_s().end() ? 0 : clock->second, &total)
                : record.status();
      } catch (const std::exception& e) {  // out of memory, say: not the snapshot's fault
        outcome = absl::ResourceExhaustedError(e.what());
      }
      if (outcome.ok()) {
        done = true;
        if (*outcome) {
          ++sessions;
        } else {
          ++expired;
          dir_->RemoveSession(key);
        }
        break;
      }
      if (current && absl::IsNotFound(outcome.status())) continue;  // rotation cut short
      spdlog::warn("--state_dir: the {} snapshot of {} was not restored: {}",
                   current ? "newest" : "previous", KeyLabel(key), outcome.status().ToString());
      // A corrupt newest snapshot is set aside (so the next one does not push the good previous
      // one out) and the previous one restored. One refused by this server (a lower limit, too
      // little memory) is not corrupt: restoring the older one instead would lose updates
      // silently, so both stay for a later start.
      if (!current || !absl::IsDataLoss(outcome.status())) break;
      dir_->SetAsideCurrent(key);
    }
    if (!done) {
      ++failed;
      spdlog::error("--state_dir: {} was not restored; its files are kept", KeyLabel(key));
      std::lock_guard<std::mutex> lock(mu_);
      unrestored_.insert(key);
      if (clock != clocks.last_used_unix_s().end()) unrestored_clocks_[key] = clock->second;
    }
  }
  spdlog::info(
      "--state_dir {}: restored {} sessions ({} shared variables, {} functions, {} "
      "bytes) in {:.1f} ms; {} expired while the server was down, {} not restored",
      dir_->dir(), sessions, total.shared_variables, total.functions, total.bytes,
      MillisecondsSince(start), expired, failed);
}

void Persistence::RememberCompiled(const std::string& cache_key, const v1::FunctionSpec& spec,
                                   const std::map<std::string, SharedDecl>& shared) {
  state::CompiledSpec saved;
  saved.set_key(cache_key);
  *saved.mutable_spec() = spec;
  for (const auto& [id, decl] : shared) {
    state::SharedDecl* d = saved.add_shared();
    d->set_id(id);
    ir::TypeToProto(decl.type, d->mutable_type());
    d->set_context(decl.context);
  }
  if (absl::Status s = dir_->WriteCompiled(cache_key, saved); !s.ok()) {
    spdlog::warn("--state_dir: a compiled spec was not saved: {}", std::string(s.message()));
  }
}

void Persistence::ForgetCompiled(const std::string& cache_key) { dir_->RemoveCompiled(cache_key); }

void Persistence::WarmCache(size_t max_entries) {
  warming_ = std::thread([this, max_entries] { WarmLoop(max_entries); });
}

void Persistence::WarmLoop(size_t max_entries) {
  const auto start = std::chrono::steady_clock::now();
  int built = 0, dropped = 0;
  std::string why;  // the first drop's reason
  std::vector<Record> records;
  try {
    records = dir_->ReadCompiled(max_entries);
  } catch (const std::exception& e) {
    spdlog::warn("--state_dir: the compiled specs were not read: {}", e.what());
  }
  for (const Record& record : records) {
    if (stopping_) return;
    state::CompiledSpec saved;
    absl::Status s = record.ParseHeader(saved);
    if (s.ok()) {
      std::map<std::string, SharedDecl> decls;
      for (const state::SharedDecl& d : saved.shared()) {
        auto type = ir::TypeFromProto(d.type());
        if (type.ok()) decls[d.id()] = SharedDecl{*std::move(type), d.context()};
      }
      try {
        s = functions_->Warm(saved.key(), saved.spec(),
                             [&decls](const std::string& id) -> absl::StatusOr<SharedDecl> {
                               auto it = decls.find(id);
                               if (it == decls.end()) return NotFound("no saved shared ", id);
                               return it->second;
                             });
      } catch (const std::exception& e) {
        s = absl::ResourceExhaustedError(e.what());
      }
    }
    if (s.ok()) {
      ++built;
      continue;
    }
    // Unparsable, or saved by another version or for a context this server lacks: of no use
    // any more. Anything else (out of memory now) may pass at the next start.
    if (absl::IsDataLoss(s) || absl::IsFailedPrecondition(s) || absl::IsInvalidArgument(s) ||
        absl::IsNotFound(s)) {
      if (dropped++ == 0) why = absl::StrCat(" (", s.ToString(), ")");
      std::remove(record.path.c_str());
    }
  }
  spdlog::info("--state_dir: warmed the compile cache with {} functions in {:.1f} ms; {} dropped{}",
               built, MillisecondsSince(start), dropped, why);
}

void Persistence::Start(std::chrono::seconds interval) {
  if (interval.count() <= 0) return;
  snapshots_ = std::thread([this, interval] { SnapshotLoop(interval); });
}

void Persistence::SnapshotLoop(std::chrono::seconds interval) {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_cv_.wait_for(lock, interval, [this] { return stopping_.load(); })) {
    lock.unlock();
    SaveChanged();
    lock.lock();
  }
}

}  // namespace tensord::server
