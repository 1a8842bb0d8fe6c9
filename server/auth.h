// Bearer tokens (--auth_tokens_file): who is calling. A session belongs to the token that opened
// it, and admin RPCs need a token marked admin. Without a tokens file every caller is the same
// anonymous principal (loopback development; main refuses other addresses without tokens).
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "engine/common/status.h"
#include "grpcpp/grpcpp.h"

namespace tensord::server {

struct Principal {
  // What owns the sessions it opens: the token's SHA-256 (hex), so sessions saved to
  // --state_dir name their owner without holding the token; empty for the anonymous principal.
  std::string owner;
  std::string tenant = "default";  // for quotas and logs; "default" when the file names none
  bool admin = false;
};

// The parsed tokens file: one token per line, optionally followed by a tenant name and the word
// `admin`; `#` starts a comment. Tokens are at least 16 characters.
class TokenTable {
 public:
  static absl::StatusOr<TokenTable> Parse(const std::string& text, const std::string& source);
  const Principal* Find(const std::string& token) const;
  size_t size() const { return by_token_.size(); }

 private:
  std::unordered_map<std::string, Principal> by_token_;
};

class Authenticator {
 public:
  // Empty path: tokens off (everyone is the anonymous principal). Fails on an unreadable or
  // malformed file.
  static absl::StatusOr<std::unique_ptr<Authenticator>> Create(const std::string& tokens_file);

  bool enabled() const { return !path_.empty(); }
  // Reads the file again (SIGHUP); on an error the previous tokens stay in force.
  absl::Status Reload();
  // UNAUTHENTICATED when tokens are on and the call carries no `authorization: Bearer <token>`
  // metadata, or an unknown token.
  absl::StatusOr<Principal> Authenticate(const grpc::ServerContextBase& ctx) const;

 private:
  explicit Authenticator(std::string path) : path_(std::move(path)) {}

  const std::string path_;
  mutable std::mutex mu_;
  std::shared_ptr<const TokenTable> table_;
};

}  // namespace tensord::server
