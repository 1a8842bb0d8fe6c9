// Admin listing RPCs for operators (tensordctl sessions / functions). A session id is the only
// credential a session has, so these are off unless the server runs with --enable_admin_rpcs.
#pragma once

#include <string>

#include "absl/status/status.h"
#include "server/session.h"
#include "tensord/v1/compute.pb.h"

namespace tensord::server {

// PERMISSION_DENIED naming the flag when admin RPCs are disabled.
absl::Status CheckAdminRpcsEnabled(bool enabled, const char* method);

// Every open session; listing does not count as using a session (idle timers keep running).
void ListSessions(const SessionManager& sessions, v1::ListSessionsResponse* out);

// The functions of one session, without marking it used; NOT_FOUND for an unknown session.
absl::Status ListFunctions(const SessionManager& sessions, const std::string& session_id,
                           v1::ListFunctionsResponse* out);

}  // namespace tensord::server
