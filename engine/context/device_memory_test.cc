// A device context's memory the host cannot touch, as a GPU's: values cross over only through
// the device's copies (runtime::OnHost / IntoContext), here against a fake device whose memory
// is host memory it says the host may not use, counting its copies; a real GPU's is tested in
// cuda_backend_tests.
#include "engine/context/device_memory.h"

#include <gtest/gtest.h>

#include <numeric>

#include "engine/compile/testing_util.h"
#include "engine/context/context.h"
#include "engine/runtime/tensor.h"

namespace tensord::context {
namespace {

class RemoteMemory final : public cuda::SimulatedDeviceMemory {
 public:
  using SimulatedDeviceMemory::SimulatedDeviceMemory;
  bool host_accessible() const override { return false; }
  absl::Status CopyToHost(void* host, const void* device, size_t bytes) override {
    if (broken) return absl::InternalError("the device is gone");
    ++to_host;
    return SimulatedDeviceMemory::CopyToHost(host, device, bytes);
  }
  absl::Status CopyFromHost(void* device, const void* host, size_t bytes) override {
    if (broken) return absl::InternalError("the device is gone");
    ++from_host;
    return SimulatedDeviceMemory::CopyFromHost(device, host, bytes);
  }
  int to_host = 0, from_host = 0;
  bool broken = false;
};

class RemoteContext : public ::testing::Test {
 protected:
  void SetUp() override {
    auto memory = std::make_unique<RemoteMemory>(size_t{1} << 20);
    device_ = memory.get();
    std::string log;
    auto blocks = DeviceBlocks::Create(std::move(memory), "remote0", {}, &log);
    ASSERT_TRUE(blocks.ok()) << blocks.status();
    counter_->SetDevice(true);
    counter_->SetBlockSource(*blocks);
  }
  void TearDown() override { counter_->SetBlockSource(nullptr); }

 public:
  static runtime::Tensor Iota(int64_t n) {
    runtime::Tensor t(DType::kFloat32, {n});
    std::iota(t.data<float>(), t.data<float>() + n, 1.0f);
    return t;
  }

 protected:
  runtime::MemoryCounter* const counter_ = runtime::MemoryCounterFor("remote-test");
  RemoteMemory* device_ = nullptr;
};

TEST_F(RemoteContext, ValuesGoInAndComeOutThroughTheDevicesCopies) {
  EXPECT_EQ(runtime::HostWritable(counter_), runtime::MemoryCounterFor("cpu"));
  const runtime::Tensor host = Iota(1000);
  auto in = runtime::IntoContext(host, counter_);
  ASSERT_TRUE(in.ok()) << in.status();
  EXPECT_FALSE(in->host_accessible());
  EXPECT_EQ(in->buffer()->counter(), counter_);
  EXPECT_EQ(device_->from_host, 1);
  EXPECT_EQ(counter_->in_use(), 4000);
  // Already there: the same buffer, no copy.
  auto again = runtime::IntoContext(*in, counter_);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->buffer(), in->buffer());
  EXPECT_EQ(device_->from_host, 1);

  auto out = runtime::OnHost(*in);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_TRUE(out->host_accessible());
  EXPECT_EQ(out->buffer()->counter(), runtime::MemoryCounterFor("cpu"));
  EXPECT_EQ(device_->to_host, 1);
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(out->data<float>()[i], host.data<float>()[i]) << i;
  // A host value is read where it is.
  EXPECT_EQ(runtime::OnHost(host)->buffer(), host.buffer());
  EXPECT_EQ(device_->to_host, 1);
}

TEST_F(RemoteContext, FailuresAreStatusesNamingWhatWentWrong) {
  auto in = runtime::IntoContext(Iota(100), counter_);
  ASSERT_TRUE(in.ok());
  // A strided view of device memory (every other element, then reversed): the span it reaches
  // comes over, read through its strides.
  auto strided = runtime::OnHost(in->StridedView({50}, {2}, 0));
  ASSERT_TRUE(strided.ok()) << strided.status();
  EXPECT_EQ(strided->shape(), (runtime::Shape{50}));
  for (int i = 0; i < 50; ++i) ASSERT_EQ(strided->data<float>()[i * 2], 2.0f * i + 1) << i;
  auto reversed = runtime::OnHost(in->StridedView({100}, {-1}, 99));
  ASSERT_TRUE(reversed.ok()) << reversed.status();
  for (int i = 0; i < 100; ++i) ASSERT_EQ(reversed->data<float>()[-i], 100.0f - i) << i;
  EXPECT_EQ(runtime::IntoContext(Iota(100).StridedView({50}, {2}, 0), counter_).status().code(),
            absl::StatusCode::kInternal);
  // More than the device has.
  auto big = runtime::IntoContext(Iota(300000), counter_);
  EXPECT_EQ(big.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(big.status().message().find("out of memory on remote0"), std::string::npos)
      << big.status();
  // The device failing its copies.
  device_->broken = true;
  auto lost = runtime::OnHost(*in);
  EXPECT_EQ(lost.status().code(), absl::StatusCode::kInternal);
  EXPECT_NE(lost.status().message().find("the device is gone"), std::string::npos);
  EXPECT_EQ(runtime::IntoContext(Iota(10), counter_).status().code(), absl::StatusCode::kInternal);
  device_->broken = false;
  EXPECT_EQ(counter_->in_use(), 400);  // only `in`: nothing a failure allocated stays
}

// An executable's transfers to and from such a device: a simulated device given the fake's
// memory, so the staged copies of the transfer kernel run here as they will to a GPU (the sqr
// between them is the host's kernel, which can read the fake's memory: it is host memory).
TEST(RemoteDeviceTransfers, ValuesGoUpAndComeBackThroughTheDevicesCopies) {
  static const ContextRegistry* registry = ContextRegistry::Create("rdev->sim7", "cpu")->release();
  const Context* rdev = *registry->Find("rdev");
  auto memory = std::make_unique<RemoteMemory>(size_t{1} << 20);
  RemoteMemory* device = memory.get();
  std::string log;
  rdev->memory->SetBlockSource(*DeviceBlocks::Create(std::move(memory), "sim7", {}, &log));

  using compile::testing::Node;
  auto g = std::make_unique<ir::Graph>();
  ir::Variable* x = g->AddInput(ir::Type::Of(DType::kFloat32, 1), "x");
  g->inputs() = {x};
  ir::Variable* up = Node(*g, "transfer", {x}, {{"target", std::string("rdev")}});
  ir::Variable* sq = Node(*g, "sqr", {up});
  g->outputs() = {Node(*g, "transfer", {sq}, {{"target", std::string("cpu")}}),
                  Node(*g, "transfer", {sq}, {{"target", std::string("rdev")}})};
  compile::CompileOptions options;
  options.contexts = registry;
  options.context = *registry->Find("cpu");
  auto prepared = compile::PrepareFunction(std::move(g), {}, {}, options);
  ASSERT_TRUE(prepared.ok()) << prepared.status();
  auto exe = compile::BuildExecutable(*std::move(prepared));
  ASSERT_TRUE(exe.ok()) << exe.status();
  EXPECT_EQ((*exe)->output_contexts(), (std::vector<std::string>{"", "rdev"}));

  const runtime::Tensor input = RemoteContext::Iota(100);
  auto result = (*exe)->Run({input}, {});
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(device->from_host, 1);  // x went up once
  EXPECT_EQ(device->to_host, 1);    // sqr(x) came down once
  const runtime::Tensor& down = result->outputs[0];
  EXPECT_TRUE(down.host_accessible());
  for (int i = 0; i < 100; ++i) ASSERT_EQ(down.data<float>()[i], (i + 1.0f) * (i + 1.0f)) << i;
  const runtime::Tensor& kept = result->outputs[1];  // left on the device
  EXPECT_FALSE(kept.host_accessible());
  EXPECT_EQ(kept.buffer()->counter(), rdev->memory);
  auto read = runtime::OnHost(kept);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->data<float>()[99], 10000.0f);
  using runtime::TransferDirection;
  EXPECT_EQ(rdev->memory->transferred(TransferDirection::kHostToDevice), 400);
  EXPECT_EQ(rdev->memory->transferred(TransferDirection::kDeviceToHost), 400);
  rdev->memory->SetBlockSource(nullptr);  // buffers still out keep the fake's memory alive
}

}  // namespace
}  // namespace tensord::context
