// A device context's memory the host cannot touch, as a GPU's: values cross over only through
// the device's copies (runtime::OnHost / IntoContext), here against a fake device whose memory
// is host memory it says the host may not use, counting its copies; a real GPU's is tested in
// cuda_backend_tests.
#include "engine/context/device_memory.h"

#include <gtest/gtest.h>

#include <numeric>

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

  static runtime::Tensor Iota(int64_t n) {
    runtime::Tensor t(DType::kFloat32, {n});
    std::iota(t.data<float>(), t.data<float>() + n, 1.0f);
    return t;
  }

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
  // A strided view of device memory: nothing makes one yet, and the host cannot gather it.
  auto strided = runtime::OnHost(in->StridedView({50}, {2}, 0));
  EXPECT_EQ(strided.status().code(), absl::StatusCode::kInternal);
  EXPECT_NE(strided.status().message().find("strided view of device memory"), std::string::npos);
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

}  // namespace
}  // namespace tensord::context
