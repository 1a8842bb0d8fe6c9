#pragma once

#include "engine/ops/op_def.h"

namespace tensord::ops {

// One line per op family; see defs/.
void RegisterElementwise(Registry& r);
void RegisterElementwiseMath(Registry& r);
void RegisterTranscendental(Registry& r);
void RegisterComparisons(Registry& r);
void RegisterReductions(Registry& r);
void RegisterLinalg(Registry& r);
void RegisterSubtensor(Registry& r);
void RegisterAdvancedSubtensor(Registry& r);
void RegisterIfElse(Registry& r);
void RegisterShapeOps(Registry& r);
void RegisterCreationOps(Registry& r);
void RegisterGradOps(Registry& r);
void RegisterComposite(Registry& r);  // the fused elementwise op (defs/composite.cc)
void RegisterGemm(Registry& r);       // Theano's Gemm, made by the gemm pass (defs/gemm.cc)
void RegisterRandom(Registry& r);     // MRG31k3p random ops (defs/random.cc, random_discrete.cc)
void RegisterScan(Registry& r);       // scan and scan_grad (defs/scan_op.cc)

// Grad rules, one family per file in grads/ (the gradient-steering ops' own rules sit in
// defs/grad_ops.cc). Attached once every op is registered, since rules refer to other ops.
void AttachGradOpsGrads(Registry& r);
void AttachElementwiseGrads(Registry& r);
void AttachElementwiseMathGrads(Registry& r);
void AttachTranscendentalGrads(Registry& r);
void AttachReductionGrads(Registry& r);
void AttachShapeGrads(Registry& r);
void AttachSubtensorGrads(Registry& r);
void AttachLinalgGrads(Registry& r);
void AttachRandomGrads(Registry& r);
void AttachScanGrads(Registry& r);

inline void RegisterAll(Registry& r) {
  RegisterElementwise(r);
  RegisterElementwiseMath(r);
  RegisterTranscendental(r);
  RegisterComparisons(r);
  RegisterReductions(r);
  RegisterLinalg(r);
  RegisterSubtensor(r);
  RegisterAdvancedSubtensor(r);
  RegisterIfElse(r);
  RegisterShapeOps(r);
  RegisterCreationOps(r);
  RegisterGradOps(r);
  RegisterComposite(r);
  RegisterGemm(r);
  RegisterRandom(r);
  RegisterScan(r);
  AttachGradOpsGrads(r);
  AttachElementwiseGrads(r);
  AttachElementwiseMathGrads(r);
  AttachTranscendentalGrads(r);
  AttachReductionGrads(r);
  AttachShapeGrads(r);
  AttachSubtensorGrads(r);
  AttachLinalgGrads(r);
  AttachRandomGrads(r);
  AttachScanGrads(r);
}

}  // namespace tensord::ops
