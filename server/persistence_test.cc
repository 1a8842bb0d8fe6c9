// Session snapshots against what a disk, a crash or a hand edit may leave: restores check what a
// whole (checksummed) file claims, keep what they cannot restore, and never resurrect a session
// that was closed.
#include "server/persistence.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <thread>

#include "engine/frontend/proto_convert.h"
#include "engine/runtime/tensor.h"
#include "server/random_id.h"
#include "server/state.pb.h"

namespace tensord::server {
namespace {
namespace fs = std::filesystem;

class PersistenceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() /
            ("persistence_test_" + std::to_string(::getpid()) + "_" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    contexts_ = *context::ContextRegistry::Create("", "cpu", false);
  }
  void TearDown() override {
    Stop();
    fs::remove_all(root_);
  }

  // A "server": its sessions and persistence over root_.
  void Start() {
    sessions_ = std::make_unique<SessionManager>(std::chrono::seconds(3600));
    functions_ = std::make_unique<FunctionService>(contexts_.get(), &cache_, &metrics_);
    auto dir = StateDir::Open(root_.string());
    ASSERT_TRUE(dir.ok()) << dir.status();
    persistence_ = std::make_unique<Persistence>(*std::move(dir), sessions_.get(), functions_.get(),
                                                 contexts_.get());
    sessions_->SetOnClosed([this](std::shared_ptr<Session> s) { persistence_->Forget(*s); });
    persistence_->RestoreSessions();
  }
  void Stop() {
    if (sessions_) sessions_->SetOnClosed(nullptr);
    persistence_.reset();
    functions_.reset();
    sessions_.reset();
  }
  void Restart() {
    Stop();
    Start();
  }

  // Writes a snapshot of a made-up session, checksummed as the server writes them.
  void WriteSnapshot(const state::SessionSnapshot& header, std::vector<std::string> blobs,
                     const std::string& key_of) {
    auto dir = StateDir::Open(root_.string());
    ASSERT_TRUE(dir.ok()) << dir.status();
    std::vector<absl::string_view> views(blobs.begin(), blobs.end());
    ASSERT_TRUE((*dir)->WriteSession(StateDir::KeyOf(key_of), header, views).ok());
  }
  static state::SessionSnapshot OneVector(const std::string& id, int64_t elements,
                                          int64_t value_bytes) {
    state::SessionSnapshot h;
    h.set_session_id(id);
    h.set_last_used_unix_s(time(nullptr));
    auto* s = h.add_shared();
    s->set_id("shared-1");
    s->mutable_type()->set_dtype(v1::DT_FLOAT32);
    s->mutable_type()->add_broadcastable(false);
    s->set_context("cpu");
    s->add_shape(elements);
    s->set_value_bytes(value_bytes);
    return h;
  }
  // Snapshot files (not the clocks record).
  size_t SavedFiles() const {
    size_t n = 0;
    for (const auto& e : fs::directory_iterator(root_ / "sessions"))
      n += e.path().filename().string().find(".snap") != std::string::npos;
    return n;
  }

  fs::path root_;
  std::unique_ptr<context::ContextRegistry> contexts_;
  compile::ExecutableCache cache_{16};
  Metrics metrics_;
  std::unique_ptr<SessionManager> sessions_;
  std::unique_ptr<FunctionService> functions_;
  std::unique_ptr<Persistence> persistence_;
};

TEST_F(PersistenceTest, SessionsComeBackWithTheirIdsOwnersAndValues) {
  Start();
  auto session = *sessions_->Open("client", Principal{.owner = "digest", .tenant = "t"});
  auto value = *runtime::Tensor::Allocate(DType::kFloat32, {3});
  for (int i = 0; i < 3; ++i) value.data<float>()[i] = static_cast<float>(i + 1);
  ASSERT_TRUE(
      session->shared()
          .Create("w", ir::Type::Of(DType::kFloat32, 1), &contexts_->default_context(), value)
          .ok());
  const std::string id = session->id();
  ASSERT_TRUE(persistence_->Save(*session).ok());
  session.reset();
  Restart();
  auto lease = sessions_->Find(id, "digest");
  ASSERT_TRUE(lease.ok()) << lease.status();
  EXPECT_EQ((*lease)->tenant(), "t");
  auto restored = (*lease)->shared().Find("shared-1");
  ASSERT_TRUE(restored.ok());
  EXPECT_EQ((*restored)->Get().data<float>()[2], 3.0f);
  EXPECT_EQ(sessions_->Find(id, "someone else").status().code(), absl::StatusCode::kNotFound);
  // The next variable gets a new id, not the restored one's.
  auto next = (*lease)->shared().Create("v", ir::Type::Of(DType::kFloat32, 1),
                                        &contexts_->default_context(), value);
  EXPECT_EQ((*next)->id(), "shared-2");
}

TEST_F(PersistenceTest, WholeFilesThatLieAreNotRestoredAndAreKept) {
  const std::string id = RandomId();
  // Claims more bytes than follow; names another session than its file; a value of the wrong
  // size for its shape; bytes left over; two variables with one id.
  WriteSnapshot(OneVector(id, 4, 1 << 20), {std::string(16, '\0')}, id);
  Start();
  EXPECT_EQ(sessions_->size(), 0u);
  EXPECT_EQ(SavedFiles(), 1u);  // kept: a later server (or the operator) may do better
  persistence_->SaveChanged();
  EXPECT_EQ(SavedFiles(), 1u);  // and not swept as stale
  Stop();
  for (auto [header, blobs] : std::vector<std::pair<state::SessionSnapshot, std::string>>{
           {OneVector(RandomId(), 4, 16), std::string(16, '\0')},  // named for another file
           {OneVector(id, 4, 12), std::string(12, '\0')},
           {OneVector(id, 1, 4), std::string(8, '\0')}}) {
    fs::remove_all(root_ / "sessions");
    WriteSnapshot(header, {blobs}, id);
    Start();
    EXPECT_EQ(sessions_->size(), 0u);
    Stop();
  }
  auto twice = OneVector(id, 1, 4);
  *twice.add_shared() = twice.shared(0);
  fs::remove_all(root_ / "sessions");
  WriteSnapshot(twice, {std::string(8, '\0')}, id);
  Start();
  EXPECT_EQ(sessions_->size(), 0u);
}

TEST_F(PersistenceTest, ANewestSnapshotThatLiesFallsBackToThePreviousOne) {
  const std::string id = RandomId();
  WriteSnapshot(OneVector(id, 1, 4), {std::string(4, '\1')}, id);    // good
  WriteSnapshot(OneVector(id, 4, 12), {std::string(12, '\0')}, id);  // whole but wrong
  Start();
  auto lease = sessions_->Find(id);
  ASSERT_TRUE(lease.ok());
  EXPECT_EQ((*(*lease)->shared().Find("shared-1"))->Get().shape(), runtime::Shape{1});
  EXPECT_TRUE(fs::exists(root_ / "sessions" / (StateDir::KeyOf(id) + ".snap.bad")));
}

TEST_F(PersistenceTest, ANewestSnapshotThisServerRefusesIsKeptNotRolledBack) {
  const std::string id = RandomId();
  WriteSnapshot(OneVector(id, 1, 4), {std::string(4, '\1')}, id);
  WriteSnapshot(OneVector(id, 1 << 12, 1 << 14), {std::string(1 << 14, '\0')}, id);
  {
    // A server with a lower limit than the one that saved it (put back however this ends).
    struct Limit {
      Limit() { runtime::SetMaxTensorBytes(1000); }
      ~Limit() { runtime::SetMaxTensorBytes(int64_t{8} << 30); }
    } lower;
    Start();
  }
  // Restoring the older snapshot would lose the newer values silently: neither is used.
  EXPECT_EQ(sessions_->size(), 0u);
  EXPECT_EQ(SavedFiles(), 2u);
  Restart();
  auto lease = sessions_->Find(id);
  ASSERT_TRUE(lease.ok());
  EXPECT_EQ((*(*lease)->shared().Find("shared-1"))->Get().shape(), runtime::Shape{1 << 12});
}

TEST_F(PersistenceTest, CountersAndClocksOutOfRangeAreRefused) {
  const std::string id = RandomId();
  auto huge = OneVector(id, 1, 4);
  huge.set_next_shared(INT64_MAX);
  WriteSnapshot(huge, {std::string(4, '\0')}, id);
  Start();
  EXPECT_EQ(sessions_->size(), 0u);
  Stop();
  fs::remove_all(root_ / "sessions");
  auto old = OneVector(id, 1, 4);
  old.set_last_used_unix_s(INT64_MIN);  // would wrap into "just used"
  WriteSnapshot(old, {std::string(4, '\0')}, id);
  Start();
  EXPECT_EQ(sessions_->size(), 0u);  // as idle as can be: expired
}

TEST_F(PersistenceTest, ASessionOnlyReadSinceItsSnapshotIsNotExpiredAtRestore) {
  const std::string id = RandomId();
  auto header = OneVector(id, 1, 4);
  header.set_last_used_unix_s(time(nullptr) - 7200);  // saved long ago...
  WriteSnapshot(header, {std::string(4, '\0')}, id);
  state::SessionClocks clocks;  // ...and used a minute ago, as the clocks record says
  (*clocks.mutable_last_used_unix_s())[StateDir::KeyOf(id)] = time(nullptr) - 60;
  ASSERT_TRUE((*StateDir::Open(root_.string()))->WriteClocks(clocks).ok());
  Start();
  EXPECT_TRUE(sessions_->Find(id).ok());
}

TEST_F(PersistenceTest, SessionsIdleBeyondTheTimeoutWhileDownExpire) {
  const std::string id = RandomId();
  auto header = OneVector(id, 1, 4);
  header.set_last_used_unix_s(time(nullptr) - 7200);  // the timeout is an hour
  WriteSnapshot(header, {std::string(4, '\0')}, id);
  Start();
  EXPECT_EQ(sessions_->size(), 0u);
  EXPECT_EQ(SavedFiles(), 0u);
}

TEST_F(PersistenceTest, AClosedSessionIsNeverSavedAgain) {
  Start();
  // Saves racing with the close: whichever wins, no snapshot of the closed session remains.
  for (int round = 0; round < 50; ++round) {
    auto session = *sessions_->Open("racer");
    session->MarkChanged();
    std::thread saver([&] { persistence_->Save(*session).IgnoreError(); });
    ASSERT_TRUE(sessions_->Close(session->id()).ok());
    saver.join();
    EXPECT_EQ(persistence_->Save(*session).status().code(), absl::StatusCode::kFailedPrecondition);
  }
  EXPECT_EQ(SavedFiles(), 0u);
}

}  // namespace
}  // namespace tensord::server
