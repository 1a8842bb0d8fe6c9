// Shared memory through the C++ client: inputs the caller writes into a region and outputs the
// server writes into its slots, against the same call in messages; what is refused, and what is
// left behind (nothing).
#include <dirent.h>
#include <gtest/gtest.h>

#include <cstring>

#include "tests/integration/live_server_test.h"

namespace tensord::client {
namespace {

class SharedMemoryTest : public LiveServerTest {};

// Objects of this client's still in /dev/shm.
int Leftovers() {
  int found = 0;
  if (DIR* dir = opendir("/dev/shm")) {
    while (dirent* entry = readdir(dir)) {
      if (std::strncmp(entry->d_name, "tensord-cpp-", 12) == 0) ++found;
    }
    closedir(dir);
  }
  return found;
}

TEST_F(SharedMemoryTest, InputsAndOutputsGoThroughTheRegion) {
  const int before = Leftovers();
  GraphBuilder g;
  Var x = g.Vector("x", kFloat32);
  auto f = session_->Compile(g, {x}, {x * 2.0f, Sum(x)});
  ASSERT_TRUE(f.ok()) << f.status();
  auto region = session_->CreateSharedMemory(1 << 20);
  ASSERT_TRUE(region.ok()) << region.status();
  EXPECT_EQ(Leftovers(), before);  // unlinked once registered
  const int n = 50000;
  std::vector<float> values(n);
  for (int i = 0; i < n; ++i) values[i] = static_cast<float>(i % 97) - 40;
  std::memcpy(region->data() + 64, values.data(), n * sizeof(float));
  for (int call = 0; call < 2; ++call) {
    auto out = f->Call({region->Tensor(64, kFloat32, {n})}, nullptr,
                       {region->Slot(1 << 19, n * sizeof(float))});
    ASSERT_TRUE(out.ok()) << out.status();
    ASSERT_TRUE(std::holds_alternative<ShmTensor>((*out)[0]));
    const ShmTensor& doubled = std::get<ShmTensor>((*out)[0]);
    EXPECT_EQ(doubled.offset, 1 << 19);
    EXPECT_EQ(doubled.shape, std::vector<int64_t>{n});
    const float* got = reinterpret_cast<const float*>(region->data() + (1 << 19));
    for (int i = 0; i < n; i += 101) ASSERT_EQ(got[i], 2 * values[i]) << i;
    // No slot for the sum: it comes in the reply.
    ASSERT_TRUE(std::holds_alternative<HostTensor>((*out)[1]));
    auto host = doubled.ToHost();
    ASSERT_TRUE(host.ok()) << host.status();
    EXPECT_EQ((*host->ToVector<float>())[7], 2 * values[7]);
  }
  // An output larger than its slot comes in the reply instead.
  auto small = f->Call({region->Tensor(64, kFloat32, {n})}, nullptr, {region->Slot(1 << 19, 16)});
  ASSERT_TRUE(small.ok()) << small.status();
  EXPECT_TRUE(std::holds_alternative<HostTensor>((*small)[0]));
  // Run() hands back host copies.
  auto copied = f->Run({*HostTensor::FromVector<float>(values, {n})});
  ASSERT_TRUE(copied.ok()) << copied.status();
  EXPECT_EQ((*(*copied)[0].ToVector<float>())[5], 2 * values[5]);
}

TEST_F(SharedMemoryTest, MisusesAreRefusedAndADestroyedRegionIsGone) {
  GraphBuilder g;
  Var x = g.Vector("x", kFloat32);
  auto f = session_->Compile(g, {x}, {x + 1.0f});
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(session_->CreateSharedMemory(8).status().code(), absl::StatusCode::kInvalidArgument);
  auto region = session_->CreateSharedMemory(4096);
  ASSERT_TRUE(region.ok()) << region.status();
  // A ShmTensor reads no further than its region.
  EXPECT_EQ(region->Tensor(0, kFloat32, {int64_t{1} << 40}).ToHost().status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(region->Tensor(0, kFloat32, {-1}).ToHost().status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(region->Tensor(5000, kFloat32, {1}).ToHost().status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(region->Tensor(4092, kFloat32, {1}).ToHost().ok());
  auto past = f->Call({region->Tensor(4000, kFloat32, {100})});
  EXPECT_EQ(past.status().code(), absl::StatusCode::kInvalidArgument) << past.status();
  EXPECT_NE(past.status().message().find("input 0"), std::string::npos) << past.status();
  auto overlap = f->Call({region->Tensor(0, kFloat32, {4})}, nullptr,
                         {region->Slot(64, 16), region->Slot(64, 16)});
  EXPECT_EQ(overlap.status().code(), absl::StatusCode::kInvalidArgument) << overlap.status();
  const std::string name = region->name();
  ShmTensor input = region->Tensor(0, kFloat32, {4});
  { SharedMemoryRegion gone = *std::move(region); }  // unregistered and unmapped
  auto missing = f->Call({input});
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound) << missing.status();
  EXPECT_NE(missing.status().message().find(name), std::string::npos) << missing.status();
}

TEST(SharedMemoryOff, AServerRunWithItOffRefusesIt) {
  testing::ServerProcess server({"--shared_memory=off"});
  ASSERT_TRUE(server.running());
  auto client = Client::Connect(server.address());
  ASSERT_TRUE(client.ok()) << client.status();
  auto session = (*client)->OpenSession();
  ASSERT_TRUE(session.ok()) << session.status();
  auto region = session->CreateSharedMemory(4096);
  EXPECT_EQ(region.status().code(), absl::StatusCode::kPermissionDenied) << region.status();
  EXPECT_NE(region.status().message().find("--shared_memory=off"), std::string::npos);
}

}  // namespace
}  // namespace tensord::client
