// Where an executable's inputs are read and its outputs left, as placement decided, and what
// binding a value that already lives on a device costs (engine/compile/executable.h).
#include <gtest/gtest.h>

#include "engine/compile/testing_util.h"
#include "engine/context/context.h"

namespace tensord::compile {
namespace {

using testing::Node;

const context::ContextRegistry& OneDevice() {
  static const context::ContextRegistry* registry =
      context::ContextRegistry::Create("dev0->sim0", "cpu")->release();
  return *registry;
}

// f(a, b) = (sqr(a on dev0) left on dev0, b + 1 on the host).
std::shared_ptr<Executable> BuildMixed() {
  auto g = std::make_unique<ir::Graph>();
  const ir::Type vec = ir::Type::Of(DType::kFloat32, 1);
  ir::Variable* a = g->AddInput(vec, "a");
  ir::Variable* b = g->AddInput(vec, "b");
  g->inputs() = {a, b};
  ir::Variable* up = Node(*g, "transfer", {a}, {{"target", std::string("dev0")}});
  ir::Variable* sq =
      Node(*g, "transfer", {Node(*g, "sqr", {up})}, {{"target", std::string("dev0")}});
  g->outputs() = {sq, Node(*g, "add", {b, b})};
  CompileOptions options;
  options.contexts = &OneDevice();
  options.context = *OneDevice().Find("cpu");
  auto prepared = PrepareFunction(std::move(g), {}, {}, options);
  EXPECT_TRUE(prepared.ok()) << prepared.status();
  auto exe = BuildExecutable(*std::move(prepared));
  EXPECT_TRUE(exe.ok()) << exe.status();
  return exe.ok() ? *exe : nullptr;
}

runtime::Tensor Vector(std::vector<float> values) {
  runtime::Tensor t(DType::kFloat32, {static_cast<int64_t>(values.size())});
  std::copy(values.begin(), values.end(), t.data<float>());
  return t;
}

TEST(DeviceResidencyTest, OutputsAndInputsNameTheDeviceTheyLiveOn) {
  auto exe = BuildMixed();
  ASSERT_NE(exe, nullptr);
  EXPECT_EQ(exe->output_contexts(), (std::vector<std::string>{"dev0", ""}));
  EXPECT_EQ(exe->input_contexts(), (std::vector<std::string>{"dev0", ""}));
}

TEST(DeviceResidencyTest, AValueAlreadyOnTheDeviceBindsWithoutMoving) {
  auto exe = BuildMixed();
  ASSERT_NE(exe, nullptr);
  runtime::MemoryCounter* dev0 = runtime::MemoryCounterFor("dev0");
  using runtime::TransferDirection;
  const int64_t up = dev0->transferred(TransferDirection::kHostToDevice);
  // From the host: a moves up (12 bytes).
  auto from_host = exe->Run({Vector({1, 2, 3}), Vector({1})}, {});
  ASSERT_TRUE(from_host.ok()) << from_host.status();
  EXPECT_EQ(dev0->transferred(TransferDirection::kHostToDevice) - up, 12);
  EXPECT_EQ(from_host->outputs[0].buffer()->counter(), dev0);
  // Already on dev0 (a device array): nothing moves, and the caller's buffer is never written.
  runtime::Tensor resident;
  {
    runtime::ScopedMemoryContext on_device(dev0);
    resident = Vector({1, 2, 3});
  }
  auto in_place = exe->Run({resident, Vector({1})}, {});
  ASSERT_TRUE(in_place.ok()) << in_place.status();
  EXPECT_EQ(dev0->transferred(TransferDirection::kHostToDevice) - up, 12);
  EXPECT_EQ(std::vector<float>(in_place->outputs[0].data<float>(),
                               in_place->outputs[0].data<float>() + 3),
            (std::vector<float>{1, 4, 9}));
  EXPECT_EQ(std::vector<float>(resident.data<float>(), resident.data<float>() + 3),
            (std::vector<float>{1, 2, 3}));
}

}  // namespace
}  // namespace tensord::compile
