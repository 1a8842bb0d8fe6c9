#include "server/admin.h"

#include "absl/strings/str_cat.h"

namespace tensord::server {

absl::Status CheckAdmin(bool enabled, bool tokens_on, const Principal& caller, const char* method) {
  if (!enabled) {
    return absl::PermissionDeniedError(
        absl::StrCat(method,
                     " is an admin RPC and this server runs without --enable_admin_rpcs (it is off "
                     "by default because it reveals other clients' session ids)"));
  }
  if (tokens_on && !caller.admin) {
    return absl::PermissionDeniedError(absl::StrCat(
        method, " is an admin RPC: it needs a token marked 'admin' in --auth_tokens_file"));
  }
  return absl::OkStatus();
}

void ListSessions(const SessionManager& sessions, v1::ListSessionsResponse* out) {
  for (const auto& session : sessions.List()) {
    auto* s = out->add_sessions();
    s->set_session_id(session->id());
    s->set_client(session->client());
    s->set_created_unix_s(session->created_unix_s());
    s->set_last_used_unix_s(session->last_used_unix_s());
    s->set_functions(static_cast<int64_t>(session->function_count()));
    int64_t bytes = 0;
    auto vars = session->shared().List();
    for (const auto& var : vars) bytes += static_cast<int64_t>(var->Get().num_bytes());
    s->set_shared_variables(static_cast<int64_t>(vars.size()));
    s->set_shared_bytes(bytes);
    s->set_device_arrays(static_cast<int64_t>(session->arrays().size()));
  }
}

absl::Status ListFunctions(const SessionManager& sessions, const std::string& session_id,
                           v1::ListFunctionsResponse* out) {
  if (session_id.empty()) return absl::InvalidArgumentError("ListFunctions: session_id is empty");
  for (const auto& session : sessions.List()) {
    if (session->id() != session_id) continue;
    for (const auto& fn : session->ListFunctions()) {
      auto* f = out->add_functions();
      f->set_function_id(fn->id);
      f->set_name(fn->name);
      f->set_fingerprint(fn->executable->fingerprint());
      f->set_calls(fn->calls->load(std::memory_order_relaxed));
      f->set_node_count(fn->executable->node_count());
      f->set_context(fn->context != nullptr ? fn->context->name : "");
      f->set_profiled(fn->profile != nullptr);
    }
    // Functions restored from --state_dir and not used since: their specs, no executable yet.
    for (const auto& [id, spec] : session->FunctionSpecs()) {
      if (session->FindFunction(id).ok()) continue;
      auto* f = out->add_functions();
      f->set_function_id(id);
      f->set_name(spec.name());
      f->set_context(spec.context());
      f->set_profiled(spec.profile());
    }
    return absl::OkStatus();
  }
  return absl::NotFoundError(
      absl::StrCat("unknown session '", session_id, "' (closed or expired)"));
}

}  // namespace tensord::server
