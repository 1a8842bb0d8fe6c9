#include "server/auth.h"

#include <gtest/gtest.h>

#include "server/session.h"
#include "server/transport_security.h"

namespace tensord::server {
namespace {

TEST(TokenTable, ParsesTokensTenantsAndAdmins) {
  auto table = TokenTable::Parse(
      "# comment\n"
      "aaaaaaaaaaaaaaaa\n"
      "bbbbbbbbbbbbbbbb  team-b   # trailing comment\n"
      "cccccccccccccccc ops admin\n\n",
      "tokens");
  ASSERT_TRUE(table.ok()) << table.status();
  EXPECT_EQ(table->size(), 3u);
  EXPECT_EQ(table->Find("aaaaaaaaaaaaaaaa")->tenant, "default");
  EXPECT_EQ(table->Find("bbbbbbbbbbbbbbbb")->tenant, "team-b");
  EXPECT_FALSE(table->Find("bbbbbbbbbbbbbbbb")->admin);
  EXPECT_TRUE(table->Find("cccccccccccccccc")->admin);
  EXPECT_EQ(table->Find("dddddddddddddddd"), nullptr);
}

TEST(TokenTable, ErrorsNameTheLineNeverTheToken) {
  auto short_token = TokenTable::Parse("ok-token-0123456789\nshort\n", "f");
  EXPECT_EQ(short_token.status().message(), "f:2: a token needs at least 16 characters");
  auto twice = TokenTable::Parse("same-token-0123456789\nsame-token-0123456789\n", "f");
  EXPECT_EQ(twice.status().message(), "f:2: the same token appears twice");
  auto junk = TokenTable::Parse("token-0123456789abc tenant superuser\n", "f");
  EXPECT_EQ(junk.status().message(), "f:1: expected TOKEN [TENANT [admin]]");
}

TEST(Sessions, AnotherOwnersSessionIsNotFoundLikeAMissingOne) {
  SessionManager sessions(std::chrono::seconds(60));
  std::string id = (*sessions.Open("alice's", Principal{.owner = "alice-token"}))->id();
  EXPECT_TRUE(sessions.Find(id, "alice-token").ok());
  absl::Status other = sessions.Find(id, "bob-token").status();
  absl::Status missing = sessions.Find("no-such-session", "bob-token").status();
  EXPECT_EQ(other.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(other.message(), absl::StrCat("unknown session '", id, "' (closed or expired)"));
  EXPECT_EQ(missing.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(sessions.Close(id, "bob-token").code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(sessions.Close(id, "alice-token").ok());
}

TEST(TransportSecurity, LoopbackAddresses) {
  for (const char* a : {"127.0.0.1:50051", "127.8.9.10:0", "localhost:1", "[::1]:50051"})
    EXPECT_TRUE(IsLoopbackAddress(a)) << a;
  for (const char* a : {"0.0.0.0:50051", "[::]:50051", "10.0.0.5:1", "example.org:443",
                        "127.example.com:50051", "128.0.0.1:1"})
    EXPECT_FALSE(IsLoopbackAddress(a)) << a;
}

TEST(TransportSecurity, ExposedListenersNeedTlsAndTokensOrInsecure) {
  EXPECT_TRUE(CheckExposure("127.0.0.1:0", false, false, false).ok());
  EXPECT_TRUE(CheckExposure("0.0.0.0:0", true, true, false).ok());
  EXPECT_TRUE(CheckExposure("0.0.0.0:0", false, false, true).ok());
  absl::Status s = CheckExposure("0.0.0.0:0", true, false, false);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("without bearer tokens"), std::string::npos) << s.message();
  s = CheckExposure("0.0.0.0:0", false, false, false);
  EXPECT_NE(s.message().find("without TLS and bearer tokens"), std::string::npos) << s.message();
}

TEST(TransportSecurity, CredentialFlagsGoTogether) {
  EXPECT_EQ(ServerCredentials({.cert = "c.pem"}).status().message(),
            "TLS needs both --tls_cert and --tls_key");
  EXPECT_EQ(ServerCredentials({.client_ca = "ca.pem"}).status().message(),
            "--tls_client_ca needs --tls_cert and --tls_key");
  EXPECT_NE(ServerCredentials({.cert = "/nonexistent", .key = "/nonexistent"})
                .status()
                .message()
                .find("cannot read --tls_cert /nonexistent"),
            std::string::npos);
  EXPECT_TRUE(ServerCredentials({}).ok());
}

}  // namespace
}  // namespace tensord::server
