// Device arrays through the C++ client: outputs a function leaves on a device stay on the server
// (TensorRef), feed other functions where they live, and are freed with their last handle.
#include <gtest/gtest.h>

#include "tests/integration/live_server_test.h"

namespace tensord::client {
namespace {

class DeviceArrayTest : public LiveServerTest {
 protected:
  static void SetUpTestSuite() { StartServer({"--contexts=dev0->sim0;dev1->sim1"}); }

  v1::ContextInfo Dev(const std::string& name) {
    auto info = client_->GetServerInfo();
    EXPECT_TRUE(info.ok()) << info.status();
    for (const auto& c : info->contexts())
      if (c.name() == name) return c;
    ADD_FAILURE() << "no context " << name;
    return {};
  }

  // f(x) = (x * 2) left on `target`.
  Function Doubler(const std::string& target) {
    GraphBuilder g;
    Var x = g.Vector("x", kFloat32);
    auto f = session_->Compile(g, {x}, {Transfer(x * 2.0f, target)});
    EXPECT_TRUE(f.ok()) << f.status();
    return *f;
  }
};

const std::vector<float> kValues = {1, 2, 3, 4};

TEST_F(DeviceArrayTest, AnOutputLeftOnADeviceComesBackAsADeviceArray) {
  const int64_t before = Dev("dev0").memory_in_use_bytes();
  Function f = Doubler("dev0");
  auto out = f.Call({HostTensor::Vector<float>(kValues)});
  ASSERT_TRUE(out.ok()) << out.status();
  ASSERT_TRUE(std::holds_alternative<DeviceArray>((*out)[0]));
  DeviceArray a = std::get<DeviceArray>((*out)[0]);
  EXPECT_EQ(a.context(), "dev0");
  EXPECT_EQ(a.dtype(), kFloat32);
  EXPECT_EQ(a.shape(), std::vector<int64_t>{4});
  EXPECT_EQ(Dev("dev0").memory_in_use_bytes() - before, 16);  // resident there
  const int64_t down = Dev("dev0").transferred_device_to_host_bytes();
  auto host = a.Fetch();
  ASSERT_TRUE(host.ok()) << host.status();
  EXPECT_EQ(*host->ToVector<float>(), (std::vector<float>{2, 4, 6, 8}));
  EXPECT_EQ(Dev("dev0").transferred_device_to_host_bytes() - down, 16);
  // Run() returns host values: it fetches, and the fetched array is freed.
  auto values = f.Run({HostTensor::Vector<float>(kValues)});
  ASSERT_TRUE(values.ok()) << values.status();
  EXPECT_EQ(*(*values)[0].ToVector<float>(), (std::vector<float>{2, 4, 6, 8}));
  ASSERT_TRUE(a.Release().ok());
  EXPECT_EQ(Dev("dev0").memory_in_use_bytes(), before);
  auto gone = a.Fetch();
  EXPECT_EQ(gone.status().code(), absl::StatusCode::kNotFound) << gone.status();
  EXPECT_NE(gone.status().message().find(a.id()), std::string::npos) << gone.status();
}

TEST_F(DeviceArrayTest, ADeviceArrayFeedsAnotherFunctionWhereItLives) {
  Function f = Doubler("dev0");
  GraphBuilder g;
  Var y = g.Vector("y", kFloat32);
  auto sum = session_->Compile(g, {y}, {Sum(Transfer(y, "dev0") + 1.0f)});
  ASSERT_TRUE(sum.ok()) << sum.status();
  auto doubled = f.Call({HostTensor::Vector<float>(kValues)});
  ASSERT_TRUE(doubled.ok()) << doubled.status();
  const v1::ContextInfo start = Dev("dev0");
  auto out = sum->Call({(*doubled)[0]});
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(*std::get<HostTensor>((*out)[0]).ToVector<float>(), std::vector<float>{24});
  const v1::ContextInfo end = Dev("dev0");
  // Nothing went up: the array was used on dev0; only the float32 sum came down.
  EXPECT_EQ(end.transferred_host_to_device_bytes(), start.transferred_host_to_device_bytes());
  EXPECT_EQ(end.transferred_device_to_host_bytes() - start.transferred_device_to_host_bytes(), 4);
  // A function reading its input on the host gets a server-side copy instead.
  GraphBuilder h;
  Var z = h.Vector("z", kFloat32);
  auto host_sum = session_->Compile(h, {z}, {Sum(z)});
  ASSERT_TRUE(host_sum.ok()) << host_sum.status();
  auto host_out = host_sum->Call({(*doubled)[0]});
  ASSERT_TRUE(host_out.ok()) << host_out.status();
  EXPECT_EQ(*std::get<HostTensor>((*host_out)[0]).ToVector<float>(), std::vector<float>{20});
  EXPECT_EQ(Dev("dev0").transferred_device_to_host_bytes() - end.transferred_device_to_host_bytes(),
            16);
}

TEST_F(DeviceArrayTest, ArraysDieWithTheirLastHandleAndTheirSession) {
  const int64_t before = Dev("dev1").memory_in_use_bytes();
  {
    Function f = Doubler("dev1");
    std::vector<Value> kept;
    for (int i = 0; i < 50; ++i) {
      auto out = f.Call({HostTensor::Vector<float>(kValues)});
      ASSERT_TRUE(out.ok()) << out.status();
      kept.push_back((*out)[0]);
    }
    EXPECT_EQ(Dev("dev1").memory_in_use_bytes() - before, 50 * 16);
  }
  EXPECT_EQ(Dev("dev1").memory_in_use_bytes(), before);
  // Closing the session frees what its handles never released.
  auto other = client_->OpenSession();
  ASSERT_TRUE(other.ok()) << other.status();
  GraphBuilder g;
  Var x = g.Vector("x", kFloat32);
  auto f = other->Compile(g, {x}, {Transfer(x * 2.0f, "dev1")});
  ASSERT_TRUE(f.ok()) << f.status();
  auto out = f->Call({HostTensor::Vector<float>(kValues)});
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(Dev("dev1").memory_in_use_bytes() - before, 16);
  ASSERT_TRUE(other->Close().ok());
  EXPECT_EQ(Dev("dev1").memory_in_use_bytes(), before);
}

TEST_F(DeviceArrayTest, AnotherSessionsArrayIsNotFound) {
  auto other = client_->OpenSession();
  ASSERT_TRUE(other.ok()) << other.status();
  GraphBuilder g;
  Var x = g.Vector("x", kFloat32);
  auto theirs = other->Compile(g, {x}, {Transfer(x * 2.0f, "dev0")});
  ASSERT_TRUE(theirs.ok()) << theirs.status();
  auto out = theirs->Call({HostTensor::Vector<float>(kValues)});
  ASSERT_TRUE(out.ok()) << out.status();
  const DeviceArray& array = std::get<DeviceArray>((*out)[0]);
  EXPECT_EQ(array.id().size(), 3 + 32) << array.id();  // da- and 128 random bits
  // Named in this session's call, by raw RPC: not found, the other session's array untouched.
  v1::FetchRefRequest fetch;
  fetch.set_session_id(session_->id());
  fetch.set_id(array.id());
  v1::FetchRefResponse fetched;
  grpc::ClientContext ctx;
  EXPECT_EQ(client_->stub().FetchRef(&ctx, fetch, &fetched).error_code(), grpc::NOT_FOUND);
  Function mine = Doubler("dev0");
  auto run = mine.Call({array});
  EXPECT_EQ(run.status().code(), absl::StatusCode::kNotFound) << run.status();
  EXPECT_NE(run.status().message().find("input 0"), std::string::npos) << run.status();
  // All or nothing: a release naming an unknown id releases none.
  v1::ReleaseRefsRequest release;
  release.set_session_id(other->id());
  release.add_ids(array.id());
  release.add_ids("da-unknown");
  v1::ReleaseRefsResponse released;
  grpc::ClientContext ctx2;
  EXPECT_EQ(client_->stub().ReleaseRefs(&ctx2, release, &released).error_code(), grpc::NOT_FOUND);
  EXPECT_TRUE(array.Fetch().ok());
  // With ignore_unknown, the ids it holds go and the others are passed over.
  release.set_ignore_unknown(true);
  grpc::ClientContext ctx3;
  EXPECT_TRUE(client_->stub().ReleaseRefs(&ctx3, release, &released).ok());
  EXPECT_EQ(array.Fetch().status().code(), absl::StatusCode::kNotFound);
}

// A view left on a device keeps only its elements: the rest of the buffer is not pinned.
TEST_F(DeviceArrayTest, AViewOutputKeepsOnlyItsElements) {
  GraphBuilder g;
  Var x = g.Vector("x", kFloat32);
  Var head = GetItem(Transfer(x * 2.0f, "dev0"), {Slice(Var(), 2)});  // a view, on dev0
  auto f = session_->Compile(g, {x}, {Transfer(head, "dev0")});
  ASSERT_TRUE(f.ok()) << f.status();
  const HostTensor input = HostTensor::Vector<float>(std::vector<float>(1000, 1.0f));
  ASSERT_TRUE(f->Call({input}).ok());  // a first call
  const int64_t before = Dev("dev0").memory_in_use_bytes();
  auto out = f->Call({input});
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(std::get<DeviceArray>((*out)[0]).shape(), std::vector<int64_t>{2});
  EXPECT_EQ(Dev("dev0").memory_in_use_bytes() - before, 8);
}

TEST_F(DeviceArrayTest, ADeviceArrayOfTheWrongTypeIsRefusedByInput) {
  Function f = Doubler("dev0");
  auto out = f.Call({HostTensor::Vector<float>(kValues)});
  ASSERT_TRUE(out.ok()) << out.status();
  GraphBuilder g;
  Var m = g.Matrix("m", kFloat32);
  auto takes_matrix = session_->Compile(g, {m}, {Sum(Transfer(m, "dev0"))});
  ASSERT_TRUE(takes_matrix.ok()) << takes_matrix.status();
  auto run = takes_matrix->Call({(*out)[0]});
  EXPECT_EQ(run.status().code(), absl::StatusCode::kInvalidArgument) << run.status();
  EXPECT_NE(run.status().message().find("input 0"), std::string::npos) << run.status();
}

// A device at its memory limit refuses the allocation by name, and the server goes on.
TEST(DeviceMemoryLimitTest, AnAllocationPastTheLimitIsResourceExhaustedNamingTheContext) {
  testing::ServerProcess server({"--contexts=dev0->sim0", "--device_memory_limit=4096"});
  ASSERT_TRUE(server.running()) << "server did not start";
  auto client = Client::Connect(server.address());
  ASSERT_TRUE(client.ok()) << client.status();
  auto session = (*client)->OpenSession();
  ASSERT_TRUE(session.ok()) << session.status();
  GraphBuilder g;
  Var x = g.Vector("x", kFloat32);
  auto f = session->Compile(g, {x}, {Transfer(Exp(x), "dev0")});
  ASSERT_TRUE(f.ok()) << f.status();
  auto big = f->Call({HostTensor::Vector<float>(std::vector<float>(2000, 1.0f))});
  ASSERT_EQ(big.status().code(), absl::StatusCode::kResourceExhausted) << big.status();
  EXPECT_NE(big.status().message().find("context 'dev0' is out of memory: 8000 bytes asked"),
            std::string::npos)
      << big.status();
  EXPECT_NE(big.status().message().find("of 4096 free (--device_memory_limit)"), std::string::npos)
      << big.status();
  // Shared values count too; the host has no limit.
  auto w =
      session->CreateShared("w", HostTensor::Vector<float>(std::vector<float>(2000, 1.0f)), "dev0");
  EXPECT_EQ(w.status().code(), absl::StatusCode::kResourceExhausted) << w.status();
  EXPECT_TRUE(
      session->CreateShared("h", HostTensor::Vector<float>(std::vector<float>(2000, 1.0f)), "cpu")
          .ok());
  auto small = f->Call({HostTensor::Vector<float>(std::vector<float>(100, 0.0f))});
  ASSERT_TRUE(small.ok()) << small.status();
  auto info = (*client)->GetServerInfo();
  ASSERT_TRUE(info.ok()) << info.status();
  for (const auto& c : info->contexts()) {
    if (c.name() != "dev0") continue;
    EXPECT_EQ(c.memory_limit_bytes(), 4096);
    EXPECT_LE(c.memory_in_use_bytes(), 4096);
  }
}

}  // namespace
}  // namespace tensord::client
