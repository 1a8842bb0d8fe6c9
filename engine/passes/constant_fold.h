// Constant folding: an apply whose inputs are all constants is evaluated once, at compile time,
// with its CPU kernel, and replaced by the constant it computes (Theano's constant_folding).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>

#include "engine/passes/pass.h"

namespace tensord::passes {

// Outputs larger than this are left to run time: a folded constant lives in every cached
// executable and in the cache key of nothing, but it still costs memory (alloc(0, 1e5, 1e5)
// must never run at compile time).
constexpr int64_t kMaxFoldedBytes = 1 << 20;

std::unique_ptr<Pass> MakeConstantFoldPass(int64_t max_bytes = kMaxFoldedBytes);

// An upper bound on the elements of each output of `node` computed from its constant inputs'
// shapes, or nullopt for ops whose output size the inputs' shapes do not bound (alloc, arange,
// tile ...), which are never folded.
std::optional<int64_t> FoldedElementsBound(const ir::Apply& node);

}  // namespace tensord::passes
