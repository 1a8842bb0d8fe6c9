// transfer(x; target): x moved to another context (Theano's Variable.transfer, GpuFromHost /
// HostFromGpu / GpuToGpu). Clients write it to pin a value to a context; the placement pass
// (engine/passes/placement.h) resolves each one, records where its input lives and inserts the
// transfers that nodes on different contexts need.
#include "engine/ops/defs/shape_rules.h"
#include "engine/ops/node_builder.h"
#include "engine/ops/register_all.h"

namespace tensord::ops {
namespace {

absl::StatusOr<std::vector<ir::Type>> InferTransfer(const ir::Apply& node) {
  if (node.attrs.count("target")) {
    TENSORD_RETURN_IF_ERROR(ir::GetAttr<std::string>(node, "target").status());
  }
  return std::vector<ir::Type>{node.inputs[0]->type};
}

// The gradient flows back unchanged; placement moves it to wherever its consumers run.
Grads TransferGrad(NodeBuilder&, const ir::Apply&, OutGrads gz) { return {gz[0]}; }

// Theano's names: GpuFromHost<dev0> (from host memory, <None> for the default context),
// GpuToGpu<dev1> (between devices), HostFromGpu(gpuarray) (back to host memory). Placement
// sets `context` on a node that runs on a device and `source` on a transfer whose input lives on
// one; a transfer without `context` goes to host memory.
std::string TransferTheanoName(const ir::Apply& node, const std::string&) {
  auto context = ir::GetAttr<std::string>(node, "context");
  if (!context.ok()) return "HostFromGpu(gpuarray)";
  if (node.attrs.count("source")) return absl::StrCat("GpuToGpu<", *context, ">");
  const std::string target = ir::GetAttr<std::string>(node, "target").value_or("");
  return absl::StrCat("GpuFromHost<", target.empty() ? "None" : target, ">");
}

}  // namespace

void RegisterTransfer(Registry& r) {
  OpDef d = MakeOpDef("transfer", 1, 1,
                      "transfer(x; target): x on context `target` (\"\" = the default context), "
                      "Theano's Variable.transfer; a copy when the contexts' memories differ",
                      InferTransfer, TransferGrad);
  d.attrs = {"target", "source"};
  d.infer_shape = ShapeOfInput(0);
  d.theano_render = TransferTheanoName;
  r.Add(std::move(d));
}

}  // namespace tensord::ops
