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
void RegisterComposite(Registry& r);   // the fused elementwise op (defs/composite.cc)
void RegisterGemm(Registry& r);        // Theano's Gemm, made by the gemm pass (defs/gemm.cc)
void RegisterRandom(Registry& r);      // MRG31k3p random ops (defs/random.cc, random_discrete.cc)
void RegisterScan(Registry& r);        // scan and scan_grad (defs/scan_op.cc)
void RegisterTransfer(Registry& r);    // moving values between contexts (defs/transfer.cc)
void RegisterConv(Registry& r);        // convolution and its gradients (defs/conv.cc)
void RegisterPool(Registry& r);        // pooling and its gradients (defs/pool.cc)
void RegisterNeighbours(Registry& r);  // images2neibs, neibs2images (defs/neighbours.cc)
void RegisterBatchNorm(Registry& r);   // batch_norm_train and its gradient (defs/batch_norm.cc)
void RegisterSparse(Registry& r);      // sparse-matrix components' ops (defs/sparse.cc)

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
  RegisterTransfer(r);
  RegisterConv(r);
  RegisterPool(r);
  RegisterNeighbours(r);
  RegisterBatchNorm(r);
  RegisterSparse(r);
}

}  // namespace tensord::ops
