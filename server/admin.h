// Admin listing RPCs for operators (tensordctl sessions / functions). A session id is the only
// credential a session has, so these are off unless the server runs with --enable_admin_rpcs.
#pragma once

#include <string>

#include "absl/status/status.h"
#include "server/auth.h"
#include "server/session.h"
#include "tensord/v1/compute.pb.h"

namespace tensord::server {

// PERMISSION_DENIED unless admin RPCs are enabled and, when tokens are on, the caller's token is
// an admin's.
absl::Status CheckAdmin(bool enabled, bool tokens_on, const Principal& caller, const char* method);

// Every open session; listing does not count as using a session (idle timers keep running).
void ListSessions(const SessionManager& sessions, v1::ListSessionsResponse* out);

// The functions of one session, without marking it used; NOT_FOUND for an unknown session.
absl::Status ListFunctions(const SessionManager& sessions, const std::string& session_id,
                           v1::ListFunctionsResponse* out);

}  // namespace tensord::server
