// SHA-256 (OpenSSL's libcrypto): token digests that stand for a session's owner, and the
// checksums that tell a whole --state_dir file from a torn or corrupt one.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/strings/string_view.h"

namespace tensord::server {

using Sha256Digest = std::array<uint8_t, 32>;

// Digests data given in pieces.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void Update(absl::string_view bytes);
  Sha256Digest Finish();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// 64 lowercase hex digits.
std::string Sha256Hex(absl::string_view bytes);
std::string HexDigest(const Sha256Digest& digest);

}  // namespace tensord::server
