#include "server/transport_security.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "grpcpp/security/server_credentials.h"

namespace tensord::server {
namespace {

absl::StatusOr<std::string> ReadPem(const std::string& path, const char* flag) {
  std::ifstream in(path);
  if (!in) return InvalidArgument("cannot read ", flag, " ", path);
  std::stringstream text;
  text << in.rdbuf();
  if (text.str().find("-----BEGIN ") == std::string::npos) {
    return InvalidArgument(flag, " ", path, " is not a PEM file");
  }
  return text.str();
}

}  // namespace

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> ServerCredentials(const TlsFiles& tls) {
  if (!tls.enabled()) {
    if (!tls.client_ca.empty()) {
      return InvalidArgument("--tls_client_ca needs --tls_cert and --tls_key");
    }
    return grpc::InsecureServerCredentials();
  }
  if (tls.cert.empty() || tls.key.empty()) {
    return InvalidArgument("TLS needs both --tls_cert and --tls_key");
  }
  grpc::SslServerCredentialsOptions options;
  grpc::SslServerCredentialsOptions::PemKeyCertPair pair;
  TENSORD_ASSIGN_OR_RETURN(pair.cert_chain, ReadPem(tls.cert, "--tls_cert"));
  TENSORD_ASSIGN_OR_RETURN(pair.private_key, ReadPem(tls.key, "--tls_key"));
  options.pem_key_cert_pairs.push_back(std::move(pair));
  if (!tls.client_ca.empty()) {
    TENSORD_ASSIGN_OR_RETURN(options.pem_root_certs, ReadPem(tls.client_ca, "--tls_client_ca"));
    options.client_certificate_request = GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY;
  }
  return grpc::SslServerCredentials(options);
}

bool IsLoopbackAddress(const std::string& listen) {
  std::string host = listen;
  if (absl::StartsWith(host, "[")) {
    host = host.substr(1, host.find(']') - 1);
  } else if (auto colon = host.rfind(':'); colon != std::string::npos) {
    host = host.substr(0, colon);
  }
  if (host == "localhost") return true;
  // An address, not a name: "127.example.com" may resolve anywhere.
  in_addr v4;
  if (inet_pton(AF_INET, host.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6;
  return inet_pton(AF_INET6, host.c_str(), &v6) == 1 && IN6_IS_ADDR_LOOPBACK(&v6);
}

absl::Status CheckExposure(const std::string& listen, bool tls, bool tokens, bool insecure) {
  if (IsLoopbackAddress(listen) || (tls && tokens) || insecure) return absl::OkStatus();
  return FailedPrecondition(
      "refusing to listen on ", listen, " without ",
      !tls && !tokens ? "TLS and bearer tokens"
      : !tls          ? "TLS"
                      : "bearer tokens",
      ": other machines could reach it and a session id would be the only credential. Give "
      "--tls_cert/--tls_key and --auth_tokens_file, listen on 127.0.0.1, or pass --insecure");
}

}  // namespace tensord::server
