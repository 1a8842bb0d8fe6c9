#include "server/session.h"

#include <gtest/gtest.h>

#include <thread>

namespace tensord::server {
namespace {

TEST(SessionManager, OpenFindClose) {
  SessionManager sessions(std::chrono::seconds(60));
  auto s = sessions.Open("test");
  ASSERT_TRUE(sessions.Find(s->id()).ok());
  EXPECT_EQ(sessions.size(), 1u);
  EXPECT_TRUE(sessions.Close(s->id()).ok());
  EXPECT_EQ(sessions.Find(s->id()).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(sessions.Close(s->id()).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(sessions.Find("").status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(SessionManager, IdleSessionsExpire) {
  SessionManager sessions(std::chrono::seconds(1));
  auto s = sessions.Open("idle");
  std::string id = s->id();
  s.reset();
  for (int i = 0; i < 40 && sessions.size() > 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(sessions.size(), 0u);
  EXPECT_EQ(sessions.Find(id).status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace tensord::server
