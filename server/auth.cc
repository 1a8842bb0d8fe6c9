#include "server/auth.h"

#include <fstream>
#include <sstream>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "server/digest.h"

namespace tensord::server {

absl::StatusOr<TokenTable> TokenTable::Parse(const std::string& text, const std::string& source) {
  TokenTable table;
  int line_number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_number;
    line = line.substr(0, line.find('#'));
    std::vector<absl::string_view> fields =
        absl::StrSplit(line, absl::ByAnyChar(" \t\r"), absl::SkipEmpty());
    if (fields.empty()) continue;
    // Errors name the line, never the token: the file is a secret.
    const std::string where = absl::StrCat(source, ":", line_number, ": ");
    if (fields.size() > 3 || (fields.size() == 3 && fields[2] != "admin")) {
      return InvalidArgument(where, "expected TOKEN [TENANT [admin]]");
    }
    std::string token(fields[0]);
    if (token.size() < 16) return InvalidArgument(where, "a token needs at least 16 characters");
    Principal p{.owner = Sha256Hex(token),
                .tenant = fields.size() > 1 ? std::string(fields[1]) : "default",
                .admin = fields.size() == 3};
    if (!table.by_token_.emplace(token, std::move(p)).second) {
      return InvalidArgument(where, "the same token appears twice");
    }
  }
  return table;
}

const Principal* TokenTable::Find(const std::string& token) const {
  auto it = by_token_.find(token);
  return it == by_token_.end() ? nullptr : &it->second;
}

absl::StatusOr<std::unique_ptr<Authenticator>> Authenticator::Create(
    const std::string& tokens_file) {
  std::unique_ptr<Authenticator> auth(new Authenticator(tokens_file));
  if (auth->enabled()) TENSORD_RETURN_IF_ERROR(auth->Reload());
  return auth;
}

absl::Status Authenticator::Reload() {
  std::ifstream in(path_);
  if (!in) return InvalidArgument("cannot read --auth_tokens_file ", path_);
  std::stringstream text;
  text << in.rdbuf();
  TENSORD_ASSIGN_OR_RETURN(TokenTable table, TokenTable::Parse(text.str(), path_));
  if (table.size() == 0) return InvalidArgument(path_, ": no tokens (every call would be refused)");
  auto fresh = std::make_shared<const TokenTable>(std::move(table));
  std::lock_guard<std::mutex> lock(mu_);
  table_ = std::move(fresh);
  return absl::OkStatus();
}

absl::StatusOr<Principal> Authenticator::Authenticate(const grpc::ServerContextBase& ctx) const {
  if (!enabled()) return Principal{};
  std::shared_ptr<const TokenTable> table;
  {
    std::lock_guard<std::mutex> lock(mu_);
    table = table_;
  }
  const auto& metadata = ctx.client_metadata();
  auto it = metadata.find("authorization");
  if (it == metadata.end()) {
    return absl::UnauthenticatedError(
        "this server requires a bearer token: send metadata 'authorization: Bearer <token>'");
  }
  absl::string_view value(it->second.data(), it->second.size());
  constexpr absl::string_view kScheme = "Bearer ";
  if (value.size() <= kScheme.size() ||
      !absl::EqualsIgnoreCase(value.substr(0, kScheme.size()), kScheme)) {
    return absl::UnauthenticatedError("the authorization metadata is not 'Bearer <token>'");
  }
  const Principal* p = table->Find(std::string(value.substr(kScheme.size())));
  if (p == nullptr) return absl::UnauthenticatedError("unknown bearer token");
  return *p;
}

}  // namespace tensord::server
