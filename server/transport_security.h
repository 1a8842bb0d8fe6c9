// TLS for the gRPC listener and the rule that a server reachable from other machines is not
// left open: without TLS and bearer tokens it listens on loopback only, unless told --insecure.
#pragma once

#include <memory>
#include <string>

#include "engine/common/status.h"
#include "grpcpp/security/server_credentials.h"

namespace tensord::server {

struct TlsFiles {
  std::string cert;       // PEM certificate chain (--tls_cert)
  std::string key;        // PEM private key (--tls_key)
  std::string client_ca;  // PEM CAs that sign client certificates: mTLS when set (--tls_client_ca)
  bool enabled() const { return !cert.empty() || !key.empty(); }
};

// Insecure credentials when TLS is off; INVALID_ARGUMENT naming the flag for a missing half of
// the pair, a client CA without a certificate, or a file that cannot be read.
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> ServerCredentials(const TlsFiles& tls);

// True for 127.0.0.0/8, ::1 and localhost (with a port: "127.0.0.1:50051", "[::1]:0").
bool IsLoopbackAddress(const std::string& listen);

// FAILED_PRECONDITION for a non-loopback `listen` without both TLS and tokens, unless `insecure`.
absl::Status CheckExposure(const std::string& listen, bool tls, bool tokens, bool insecure);

}  // namespace tensord::server
