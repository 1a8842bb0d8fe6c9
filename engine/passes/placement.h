// Placement: which context each node runs on, and the transfers between them (DESIGN: device
// contexts). A transfer node runs on its target; any other node runs where its pinned inputs
// live (outputs of placed nodes and shared variables, which live on their context) or, with
// none or with inputs on several contexts, on the function's default context. Graph inputs live
// in host memory but pin nothing; constants go wherever they are read. Where an input lives
// elsewhere than its reader runs, a transfer is inserted (one per value and context), a transfer
// to where its input already lives is dropped, outputs return to host memory unless the client
// transferred them to a device itself, and updates end on their shared variable's context.
//
// A node on a device context carries attribute `context` (host nodes carry none); a transfer
// whose input lives on a device carries `source`. The printer names them as Theano did
// (GpuElemwise{...}<gpuarray>, GpuFromHost<dev0>, HostFromGpu(gpuarray), GpuToGpu<dev1>) and
// the executable charges each node's buffers to its context.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "engine/context/context.h"
#include "engine/passes/pass.h"

namespace tensord::passes {

struct Placement {
  // The server's contexts (unknown and unavailable ones are refused as Find refuses them).
  const context::ContextRegistry* contexts = nullptr;
  std::string default_context = "cpu";                          // where unpinned nodes run
  std::unordered_map<std::string, std::string> shared_context;  // shared id -> its context
  // The graph's outputs while the pipeline runs: the function's first `num_outputs`, then one
  // per update (its value must end on update_contexts[i]), then the shared variables kept
  // alive (left where they are).
  size_t num_outputs = 0;
  std::vector<std::string> update_contexts;
  // Whether a device context's provider has a kernel for a node (null: every node runs
  // everywhere). A node placed on a device that cannot run it is refused (INVALID_ARGUMENT naming
  // it), or with `cpu_fallback` runs on cpu, the transfers around it inserted as for any move;
  // one whose inputs are all scalars living on no device (an arange a device has no kernel
  // for) runs on cpu anyway.
  std::function<bool(const context::Context&, const ir::Apply&)> runs_on;
  // The inputs a device context's kernel for a node reads on the host (a reshape's shape,
  // arange's bounds: metadata, not data): they stay on cpu, wherever the node runs, and do not
  // decide where it runs (null: none).
  std::function<std::vector<int>(const context::Context&, const ir::Apply&)> host_inputs;
  bool cpu_fallback = false;
  // A scan body run on a device: its inputs live on this context (and pin their readers there)
  // and its outputs end there ("": a function's, whose inputs and outputs are the host's).
  std::string body_context;
};

std::unique_ptr<Pass> MakePlacementPass(Placement placement);

}  // namespace tensord::passes
