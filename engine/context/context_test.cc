#include "engine/context/context.h"

#include <gtest/gtest.h>

#include "engine/runtime/tensor.h"

namespace tensord::context {
namespace {

TEST(ContextRegistry, SimulatedDevicesAreDevicesWithTheirOwnMemory) {
  auto registry = ContextRegistry::Create("dev0->sim0;dev1->sim1", "sim0");
  ASSERT_TRUE(registry.ok()) << registry.status();
  const ContextRegistry& r = **registry;
  EXPECT_EQ(r.Names(), "cpu, dev0, dev1");
  EXPECT_EQ(r.default_context().name, "dev0");  // device=sim0 is dev0's device
  const Context* dev1 = *r.Find("dev1");
  EXPECT_EQ(dev1->kind, DeviceKind::kSim);
  EXPECT_EQ(dev1->device, "sim1");
  EXPECT_TRUE(dev1->is_device());
  EXPECT_FALSE((*r.Find("cpu"))->is_device());
  EXPECT_NE(dev1->memory, (*r.Find("dev0"))->memory);
}

TEST(ContextRegistry, RefusesBadDevicesAndUnknownNames) {
  auto bad = ContextRegistry::Create("dev0->simX", "cpu");
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(bad.status().message(), "bad device 'simX' (expected sim or simN)");
  auto registry = ContextRegistry::Create("dev0->sim0", "cpu");
  ASSERT_TRUE(registry.ok());
  auto unknown = (*registry)->Find("dev3");
  EXPECT_EQ(unknown.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(unknown.status().message(), "unknown context 'dev3' (this server has: cpu, dev0)");
}

// A client's config.device names a device where a context name is expected.
TEST(ContextRegistry, ADeviceValueFindsTheContextMappedToIt) {
  auto registry = ContextRegistry::Create("dev0->sim0;dev1->sim1", "cpu");
  ASSERT_TRUE(registry.ok()) << registry.status();
  const ContextRegistry& r = **registry;
  EXPECT_EQ((*r.FindNameOrDevice("sim1"))->name, "dev1");
  EXPECT_EQ((*r.FindNameOrDevice("sim"))->name, "dev0");  // Theano's device=cuda: the first
  EXPECT_EQ((*r.FindNameOrDevice("dev1"))->name, "dev1");
  EXPECT_EQ((*r.FindNameOrDevice("cpu"))->name, "cpu");
  EXPECT_EQ((*r.FindNameOrDevice(""))->name, "cpu");  // the default
  auto absent = r.FindNameOrDevice("sim7");
  EXPECT_EQ(absent.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(absent.status().message(), "unknown context 'sim7' (this server has: cpu, dev0, dev1)");
}

TEST(ContextRegistry, AMissingGpuFailsAtStartUnlessContextsAreOptional) {
  auto strict = ContextRegistry::Create("dev0->sim0;dev1->cuda99", "cpu");
  EXPECT_EQ(strict.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(strict.status().message().find("context 'dev1' maps to cuda99 but this server sees"),
            std::string::npos)
      << strict.status();
  auto optional = ContextRegistry::Create("dev0->sim0;dev1->cuda99", "cpu", /*optional=*/true);
  ASSERT_TRUE(optional.ok()) << optional.status();
  EXPECT_EQ((*optional)->Names(), "cpu, dev0, dev1");
  auto dev1 = (*optional)->Find("dev1");
  EXPECT_EQ(dev1.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(dev1.status().message().find("context 'dev1' (cuda99) is unavailable: this server "
                                         "sees"),
            std::string::npos)
      << dev1.status();
  EXPECT_TRUE((*optional)->Find("dev0").ok());
}

TEST(ContextRegistry, ASimulatedDevicesBuffersComeFromItsAllocatorOneForEachDevice) {
  DeviceMemoryOptions options;
  options.simulated_device_bytes = int64_t{64} << 20;
  options.preallocate = 0.25;
  auto registry = ContextRegistry::Create("dev0->sim0;dev1->sim0;dev2->sim1", "cpu",
                                          /*optional=*/false, options);
  ASSERT_TRUE(registry.ok()) << registry.status();
  const ContextRegistry& r = **registry;
  EXPECT_EQ(r.memory_log(),
            (std::vector<std::string>{"Preallocating 16/64 Mb (0.250000) on sim0",
                                      "Preallocating 16/64 Mb (0.250000) on sim1"}));
  const Context* dev0 = *r.Find("dev0");
  EXPECT_EQ(dev0->blocks, (*r.Find("dev1"))->blocks);  // one device, one memory
  EXPECT_NE(dev0->blocks, (*r.Find("dev2"))->blocks);
  EXPECT_EQ((*r.Find("cpu"))->blocks, nullptr);
  {
    runtime::ScopedMemoryContext on(dev0->memory);
    runtime::Tensor t(DType::kFloat32, {1000});
    EXPECT_EQ(dev0->blocks->stats().in_use_bytes, 4096);  // rounded to 512 bytes
    EXPECT_EQ(dev0->memory->in_use(), 4000);              // what was asked
    t.data<float>()[999] = 1;                             // host memory behind a sim device
  }
  EXPECT_EQ(dev0->blocks->stats().in_use_bytes, 0);
  {
    runtime::ScopedMemoryContext on(dev0->memory);
    try {
      runtime::Tensor too_big(DType::kFloat32, {int64_t{17} << 20});  // 68 MiB
      ADD_FAILURE() << "allocated past the device's memory";
    } catch (const runtime::OutOfDeviceMemory& e) {
      EXPECT_NE(std::string(e.what()).find("out of memory on sim0: 71303168 bytes asked"),
                std::string::npos)
          << e.what();
    }
  }
  EXPECT_EQ(dev0->memory->in_use(), 0);  // the refused buffer charged nothing
}

TEST(ContextRegistry, APreallocationThatDoesNotFitIsTheError) {
  DeviceMemoryOptions options;
  options.simulated_device_bytes = int64_t{64} << 20;
  options.preallocate = 65;  // MiB
  auto registry = ContextRegistry::Create("dev0->sim0", "cpu", false, options);
  EXPECT_EQ(registry.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(registry.status().message(), "cannot preallocate 65 MiB of the 64 MiB of sim0");
}

}  // namespace
}  // namespace tensord::context
