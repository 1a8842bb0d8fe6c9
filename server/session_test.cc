#include "server/session.h"

#include <gtest/gtest.h>

#include <array>
#include <cctype>
#include <set>
#include <string>
#include <thread>

#include "engine/runtime/tensor.h"

namespace tensord::server {
namespace {

TEST(SessionManager, OpenFindClose) {
  SessionManager sessions(std::chrono::seconds(60));
  auto s = *sessions.Open("test");
  ASSERT_TRUE(sessions.Find(s->id()).ok());
  EXPECT_EQ(sessions.size(), 1u);
  EXPECT_TRUE(sessions.Close(s->id()).ok());
  EXPECT_EQ(sessions.Find(s->id()).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(sessions.Close(s->id()).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(sessions.Find("").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(sessions.Close("").code(), absl::StatusCode::kInvalidArgument);
}

TEST(SessionManager, IdleSessionsExpire) {
  SessionManager sessions(std::chrono::seconds(1));
  auto s = *sessions.Open("idle");
  std::string id = s->id();
  s.reset();
  for (int i = 0; i < 40 && sessions.size() > 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(sessions.size(), 0u);
  EXPECT_EQ(sessions.Find(id).status().code(), absl::StatusCode::kNotFound);
}

TEST(SessionManager, IdsAre128RandomBitsInHex) {
  SessionManager sessions(std::chrono::seconds(60));
  std::set<std::string> ids;
  std::array<int, 16> digit_counts{};
  for (int i = 0; i < 2000; ++i) {
    std::string id = (*sessions.Open("many"))->id();
    ASSERT_EQ(id.size(), 32u) << id;
    for (char c : id) {
      ASSERT_TRUE(std::isxdigit(static_cast<unsigned char>(c)) && !std::isupper(c)) << id;
      ++digit_counts[std::stoi(std::string(1, c), nullptr, 16)];
    }
    ids.insert(id);
  }
  EXPECT_EQ(ids.size(), 2000u);
  // 64,000 hex digits: each of the 16 expected 4,000 times; a fixed or skewed source (a counter,
  // a clock) falls far outside this band (about 8 standard deviations).
  for (int count : digit_counts) {
    EXPECT_GT(count, 3400);
    EXPECT_LT(count, 4600);
  }
}

TEST(SessionManager, LogsNameSessionsWithoutTheirIds) {
  SessionManager sessions(std::chrono::seconds(60));
  auto s = *sessions.Open("test");
  EXPECT_EQ(s->log_name().find(s->id()), std::string::npos);
  EXPECT_EQ(s->log_name().rfind("session #", 0), 0u);
}

TEST(SessionManager, LongIdsAreTruncatedInErrors) {
  SessionManager sessions(std::chrono::seconds(60));
  std::string huge(1 << 20, 'a');
  absl::Status s = sessions.Find(huge).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_LT(s.message().size(), 200u) << s.message().substr(0, 300);
  EXPECT_NE(s.message().find("1048576 bytes"), std::string::npos) << s.message();
}

TEST(SessionManager, ASessionWithACallInFlightNeverExpires) {
  SessionManager sessions(std::chrono::seconds(1));
  std::string id = (*sessions.Open("busy"))->id();
  {
    auto lease = sessions.Find(id);
    ASSERT_TRUE(lease.ok());
    // A call lasting three idle timeouts: the reaper (every second) must leave the session.
    std::this_thread::sleep_for(std::chrono::milliseconds(3500));
    EXPECT_EQ(sessions.size(), 1u);
    EXPECT_EQ((*lease)->calls_in_flight(), 1);
  }
  // The call's end counts as use: the idle clock starts again from there.
  EXPECT_TRUE(sessions.Find(id).ok());
  for (int i = 0; i < 50 && sessions.size() > 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(sessions.size(), 0u);
}

TEST(SessionManager, TenantQuotasSpanTheTenantsSessions) {
  SessionManager sessions(std::chrono::seconds(60),
                          {.tenant_sessions = 2, .tenant_memory_quota = 1000});
  const Principal alice{.owner = "a", .tenant = "team-a"}, bob{.owner = "b", .tenant = "team-b"};
  auto one = *sessions.Open("1", alice);
  auto two = *sessions.Open("2", alice);
  absl::Status third = sessions.Open("3", alice).status();
  EXPECT_EQ(third.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(third.message().find("(--tenant_max_sessions)"), std::string::npos) << third;
  ASSERT_TRUE(sessions.Open("other tenant", bob).ok());

  auto bytes = [](int n) { return runtime::Tensor(DType::kUInt8, {n}); };
  const ir::Type vec = ir::Type::Of(DType::kUInt8, 1);
  ASSERT_TRUE(one->shared().Create("a", vec, nullptr, bytes(600)).ok());
  // The quota is the tenant's: the second session has only 400 bytes left.
  absl::Status over = two->shared().Create("b", vec, nullptr, bytes(500)).status();
  EXPECT_EQ(over.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(over.message().find("tenant 'team-a'"), std::string::npos) << over;
  EXPECT_NE(over.message().find("(--tenant_memory_quota)"), std::string::npos) << over;
  ASSERT_TRUE(two->shared().Create("b", vec, nullptr, bytes(400)).ok());
  // Closing a session gives its bytes back to the tenant.
  const std::string id = one->id();
  one.reset();
  ASSERT_TRUE(sessions.Close(id, "a").ok());
  EXPECT_TRUE(two->shared().Create("c", vec, nullptr, bytes(600)).ok());
  EXPECT_TRUE(sessions.Open("3", alice).ok());
}

}  // namespace
}  // namespace tensord::server
