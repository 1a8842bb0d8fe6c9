#include "server/state_dir.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "server/state.pb.h"

namespace tensord::server {
namespace {
namespace fs = std::filesystem;

const std::string kId = "0123456789abcdef0123456789abcdef";

class StateDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() /
            ("state_dir_test_" + std::to_string(::getpid()) + "_" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    dir_ = *StateDir::Open(root_.string());
  }
  void TearDown() override { fs::remove_all(root_); }

  static state::SessionSnapshot Header(const std::string& client) {
    state::SessionSnapshot h;
    h.set_session_id(kId);
    h.set_client(client);
    return h;
  }
  static std::string Client(const Record& r) {
    state::SessionSnapshot h;
    EXPECT_TRUE(h.ParseFromArray(r.header().data(), static_cast<int>(r.header().size())));
    return h.client();
  }
  fs::path SessionFile(const char* suffix) const { return root_ / "sessions" / (kId + suffix); }
  static void Overwrite(const fs::path& p, const std::string& bytes) {
    std::ofstream(p, std::ios::binary | std::ios::trunc) << bytes;
  }
  static std::string Contents(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }

  fs::path root_;
  std::unique_ptr<StateDir> dir_;
};

TEST_F(StateDirTest, RecordRoundTripsHeaderAndBlobs) {
  ASSERT_TRUE(dir_->WriteSession(kId, Header("a"), {"12", "345"}).ok());
  std::vector<std::string> problems;
  auto records = dir_->ReadSessions(&problems);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_TRUE(problems.empty());
  EXPECT_EQ(Client(records[0]), "a");
  EXPECT_EQ(records[0].blobs(), "12345");
  EXPECT_EQ(fs::status(root_ / "sessions").permissions() & fs::perms::all, fs::perms::owner_all);
}

TEST_F(StateDirTest, EveryCorruptionIsDetected) {
  ASSERT_TRUE(dir_->WriteSession(kId, Header("a"), {"payload"}).ok());
  const std::string good = Contents(SessionFile(".snap"));
  const std::string path = SessionFile(".snap").string();
  // Every single flipped byte and every truncation fails the check.
  for (size_t i = 0; i < good.size(); ++i) {
    std::string bad = good;
    bad[i] ^= 0x40;
    Overwrite(path, bad);
    EXPECT_EQ(ReadRecord(path).status().code(), absl::StatusCode::kDataLoss) << "byte " << i;
    Overwrite(path, good.substr(0, i));
    EXPECT_EQ(ReadRecord(path).status().code(), absl::StatusCode::kDataLoss) << "length " << i;
  }
  Overwrite(path, good);
  EXPECT_TRUE(ReadRecord(path).ok());
}

TEST_F(StateDirTest, ATornSnapshotFallsBackToThePreviousOne) {
  ASSERT_TRUE(dir_->WriteSession(kId, Header("first"), {}).ok());
  ASSERT_TRUE(dir_->WriteSession(kId, Header("second"), {std::string(1000, 'x')}).ok());
  ASSERT_TRUE(fs::exists(SessionFile(".snap.prev")));
  std::string torn = Contents(SessionFile(".snap"));
  Overwrite(SessionFile(".snap"), torn.substr(0, torn.size() / 2));
  std::vector<std::string> problems;
  auto records = dir_->ReadSessions(&problems);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(Client(records[0]), "first");
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_NE(problems[0].find("checksum"), std::string::npos) << problems[0];
  EXPECT_NE(problems[0].find("using the snapshot before it"), std::string::npos) << problems[0];

  // Both corrupt: the session is reported and left out, the server still starts.
  Overwrite(SessionFile(".snap.prev"), "garbage");
  problems.clear();
  EXPECT_TRUE(dir_->ReadSessions(&problems).empty());
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_NE(problems[0].find("no earlier snapshot"), std::string::npos) << problems[0];
}

TEST_F(StateDirTest, ACrashBetweenRotationAndRenameLeavesThePreviousSnapshot) {
  ASSERT_TRUE(dir_->WriteSession(kId, Header("first"), {}).ok());
  ASSERT_TRUE(dir_->WriteSession(kId, Header("second"), {}).ok());
  // As if killed after .snap became .snap.prev and before the new file was renamed in.
  fs::rename(SessionFile(".snap"), SessionFile(".snap.tmp"));
  std::vector<std::string> problems;
  auto records = dir_->ReadSessions(&problems);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(Client(records[0]), "first");
  EXPECT_TRUE(problems.empty());
  EXPECT_FALSE(fs::exists(SessionFile(".snap.tmp")));  // leftovers are cleaned up
}

TEST_F(StateDirTest, StaleSessionsAreRemovedAndLiveOnesKept) {
  const std::string other = "ffffffffffffffffffffffffffffffff";
  ASSERT_TRUE(dir_->WriteSession(kId, Header("a"), {}).ok());
  ASSERT_TRUE(dir_->WriteSession(other, Header("b"), {}).ok());
  dir_->RemoveStaleSessions([&] { return std::set<std::string>{other}; });
  EXPECT_FALSE(fs::exists(SessionFile(".snap")));
  EXPECT_TRUE(fs::exists(root_ / "sessions" / (other + ".snap")));
  dir_->RemoveSession(other);
  std::vector<std::string> problems;
  EXPECT_TRUE(dir_->ReadSessions(&problems).empty());
}

TEST_F(StateDirTest, OnlySessionIdsNameFiles) {
  EXPECT_EQ(dir_->WriteSession("../escape", Header("a"), {}).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(dir_->WriteSession("ABCDEF0123456789ABCDEF0123456789", Header("a"), {}).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(StateDirTest, CompiledSpecsKeepTheNewestAndDropCorruptOnes) {
  for (int i = 0; i < 5; ++i) {
    state::CompiledSpec spec;
    spec.set_key("key" + std::to_string(i));
    ASSERT_TRUE(dir_->WriteCompiled(spec.key(), spec).ok());
    // Distinct modification times: every file written so far ages by a minute.
    for (const auto& e : fs::directory_iterator(root_ / "compiled"))
      fs::last_write_time(e.path(), fs::last_write_time(e.path()) - std::chrono::minutes(1));
  }
  auto newest = dir_->ReadCompiled(3);
  ASSERT_EQ(newest.size(), 3u);
  state::CompiledSpec first;
  ASSERT_TRUE(
      first.ParseFromArray(newest[0].header().data(), static_cast<int>(newest[0].header().size())));
  EXPECT_EQ(first.key(), "key4");
  // The two beyond the limit were removed.
  EXPECT_EQ(std::distance(fs::directory_iterator(root_ / "compiled"), fs::directory_iterator()), 3);
  for (const auto& e : fs::directory_iterator(root_ / "compiled")) Overwrite(e.path(), "junk");
  EXPECT_TRUE(dir_->ReadCompiled(3).empty());
  EXPECT_TRUE(fs::is_empty(root_ / "compiled"));
}

TEST(StateDirOpen, AnUnwritableDirectoryIsRefusedAtStart) {
  auto dir = StateDir::Open("/proc/tensord-state");
  ASSERT_FALSE(dir.ok());
  EXPECT_EQ(dir.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(dir.status().message().find("--state_dir"), std::string::npos);
}

}  // namespace
}  // namespace tensord::server
