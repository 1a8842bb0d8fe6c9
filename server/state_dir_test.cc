#include "server/state_dir.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "server/digest.h"
#include "server/state.pb.h"

namespace tensord::server {
namespace {
namespace fs = std::filesystem;

const std::string kKey = StateDir::KeyOf("0123456789abcdef0123456789abcdef");
using Generation = StateDir::Generation;

class StateDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() /
            ("state_dir_test_" + std::to_string(::getpid()) + "_" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    auto dir = StateDir::Open(root_.string());
    ASSERT_TRUE(dir.ok()) << dir.status();
    dir_ = *std::move(dir);
  }
  void TearDown() override {
    dir_.reset();
    fs::remove_all(root_);
  }

  static state::SessionSnapshot Header(const std::string& client) {
    state::SessionSnapshot h;
    h.set_client(client);
    return h;
  }
  static std::string Client(const Record& r) {
    state::SessionSnapshot h;
    EXPECT_TRUE(r.ParseHeader(h).ok());
    return h.client();
  }
  absl::Status Write(const std::string& client, std::vector<absl::string_view> blobs = {}) {
    return dir_->WriteSession(kKey, Header(client), blobs);
  }
  fs::path SessionFile(const char* suffix) const { return root_ / "sessions" / (kKey + suffix); }
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
  ASSERT_TRUE(Write("a", {"12", "345"}).ok());
  EXPECT_EQ(dir_->SessionKeys(), std::vector<std::string>{kKey});
  auto record = dir_->ReadSession(kKey, Generation::kCurrent);
  ASSERT_TRUE(record.ok()) << record.status();
  EXPECT_EQ(Client(*record), "a");
  EXPECT_EQ(record->blobs(), "12345");
  for (const char* sub : {"", "sessions", "compiled"}) {
    EXPECT_EQ(fs::status(root_ / sub).permissions() & fs::perms::all, fs::perms::owner_all) << sub;
  }
  // The file is named by the id's digest: the id (a credential) names no file.
  EXPECT_TRUE(fs::exists(SessionFile(".snap")));
}

TEST_F(StateDirTest, EveryCorruptionIsDetected) {
  ASSERT_TRUE(Write("a", {"payload"}).ok());
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

TEST_F(StateDirTest, AWholeRecordWithALyingHeaderLengthIsRefused) {
  // A valid checksum says the file is whole, not that its fields make sense.
  std::string bytes("TENSORD\1", 8);
  for (int i = 0; i < 8; ++i) bytes.push_back(static_cast<char>(0xff));  // 2^64 - 1
  bytes += "tiny";
  Sha256 sha;
  sha.Update(bytes);
  const Sha256Digest digest = sha.Finish();
  bytes.append(reinterpret_cast<const char*>(digest.data()), digest.size());
  Overwrite(SessionFile(".snap"), bytes);
  auto record = ReadRecord(SessionFile(".snap").string());
  EXPECT_EQ(record.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(record.status().message().find("header longer than the file"), std::string::npos);
}

TEST_F(StateDirTest, EachWriteKeepsTheOneBefore) {
  ASSERT_TRUE(Write("first").ok());
  ASSERT_TRUE(Write("second", {std::string(1000, 'x')}).ok());
  EXPECT_EQ(Client(*dir_->ReadSession(kKey, Generation::kCurrent)), "second");
  EXPECT_EQ(Client(*dir_->ReadSession(kKey, Generation::kPrevious)), "first");
  // A current snapshot set aside (found corrupt at a restore) is not rotated over the good one.
  dir_->SetAsideCurrent(kKey);
  ASSERT_TRUE(Write("third").ok());
  EXPECT_EQ(Client(*dir_->ReadSession(kKey, Generation::kPrevious)), "first");
  EXPECT_EQ(Client(*dir_->ReadSession(kKey, Generation::kCurrent)), "third");
}

TEST_F(StateDirTest, ACrashMidWriteLeavesAWholeSnapshot) {
  ASSERT_TRUE(Write("first").ok());
  ASSERT_TRUE(Write("second").ok());
  // As if killed after the fresh file was written and before it was renamed in: a temporary
  // beside the two whole snapshots, removed when the directory is opened again.
  Overwrite(SessionFile(".snap.tmp"), "half a snapshot");
  dir_.reset();
  dir_ = *StateDir::Open(root_.string());
  EXPECT_FALSE(fs::exists(SessionFile(".snap.tmp")));
  EXPECT_EQ(Client(*dir_->ReadSession(kKey, Generation::kCurrent)), "second");
  // As if the filesystem had no hard links and the crash came between its two renames.
  fs::remove(SessionFile(".snap"));
  EXPECT_EQ(dir_->ReadSession(kKey, Generation::kCurrent).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(Client(*dir_->ReadSession(kKey, Generation::kPrevious)), "first");
  EXPECT_EQ(dir_->SessionKeys(), std::vector<std::string>{kKey});
}

TEST_F(StateDirTest, StaleSessionsAreRemovedAndKeptOnesStay) {
  const std::string other = StateDir::KeyOf("ffffffffffffffffffffffffffffffff");
  ASSERT_TRUE(Write("a").ok());
  ASSERT_TRUE(Write("a again").ok());
  ASSERT_TRUE(dir_->WriteSession(other, Header("b"), {}).ok());
  dir_->RemoveStaleSessions([&] { return std::set<std::string>{other}; });
  EXPECT_FALSE(fs::exists(SessionFile(".snap")));
  EXPECT_FALSE(fs::exists(SessionFile(".snap.prev")));
  EXPECT_TRUE(fs::exists(root_ / "sessions" / (other + ".snap")));
  dir_->RemoveSession(other);
  EXPECT_TRUE(dir_->SessionKeys().empty());
}

TEST_F(StateDirTest, OnlyKeysNameFiles) {
  EXPECT_EQ(dir_->WriteSession("../escape", Header("a"), {}).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(dir_->WriteSession(std::string(64, 'A'), Header("a"), {}).code(),
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
  ASSERT_TRUE(newest[0].ParseHeader(first).ok());
  EXPECT_EQ(first.key(), "key4");
  // The two beyond the limit were removed; so is an evicted key's.
  EXPECT_EQ(std::distance(fs::directory_iterator(root_ / "compiled"), fs::directory_iterator()), 3);
  dir_->RemoveCompiled("key4");
  EXPECT_EQ(dir_->ReadCompiled(3).size(), 2u);
  for (const auto& e : fs::directory_iterator(root_ / "compiled")) Overwrite(e.path(), "junk");
  EXPECT_TRUE(dir_->ReadCompiled(3).empty());
  EXPECT_TRUE(fs::is_empty(root_ / "compiled"));
}

TEST_F(StateDirTest, ASecondServerCannotUseTheSameDirectory) {
  auto second = StateDir::Open(root_.string());
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(second.status().message().find("in use by another tensord"), std::string::npos);
  dir_.reset();  // the first one let go
  EXPECT_TRUE(StateDir::Open(root_.string()).ok());
}

TEST(StateDirOpen, UnusableDirectoriesAreRefusedAtStart) {
  auto in_proc = StateDir::Open("/proc/tensord-state");
  ASSERT_FALSE(in_proc.ok());
  EXPECT_EQ(in_proc.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(in_proc.status().message().find("--state_dir"), std::string::npos);
  // One that other users may write to could be given a snapshot to restore.
  const fs::path shared =
      fs::temp_directory_path() / ("state_dir_open_" + std::to_string(getpid()));
  fs::create_directories(shared);
  ::chmod(shared.c_str(), 0777);
  auto open = StateDir::Open(shared.string());
  EXPECT_EQ(open.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(open.status().message().find("writable by other users"), std::string::npos);
  fs::remove_all(shared);
}

}  // namespace
}  // namespace tensord::server
