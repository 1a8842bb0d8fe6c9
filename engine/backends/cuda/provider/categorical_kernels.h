// Categorical draws on the CUDA provider (engine/ops/defs/random_discrete.cc): random_multinomial,
// random_choice and random_permutation draw on the device the numbers the host draws, from the
// same MRG31k3p state. Each of the host's draws takes one uniform of its order (uniform j from
// stream j % streams): a multinomial's trial c of row r the next after those of earlier trials
// and of earlier rows with more than c trials (c * rows + r where every row has as many); a
// choice's draw i of row r uniform r * k + i; a permutation of n its n - 1 swaps from row * (n -
// 1). So a thread per stream first draws a call's uniforms in float64 into scratch
// (random_kernels.h's DrawUniforms; a multinomial's in runs of trials that fit 64 MiB), then a
// thread per row makes its draws in the host's order by the host's algorithms, which are one text
// for both (backends/cpu/categorical_step.h); a choice with replacement, whose draws are
// independent, a thread per draw. Scratch allocations run under the node's memory
// context: the device's.
//
// Probabilities (pvals, p) are converted to float64 on the device, as the host casts them, and
// checked there, a thread per row: the first row that is not probabilities summing to 1 is
// reported through a word read back, and that row, copied down, gets the host's check and its
// words. The size, n and a population size are read on the host (HostInputs); a population
// vector stays on the device and is gathered from.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/backends/cuda/device_runtime.h"
#include "engine/backends/kernel.h"
#include "engine/ir/graph.h"

namespace tensord::cuda {

// Whether the device draws `node`: random_multinomial, random_choice and random_permutation of
// a sample dtype a GPU holds, probabilities of float32 or float64, a population vector the
// sample's dtype converts from (not a float into integers), and a size of at most 8 dims.
bool IsDeviceCategorical(const ir::Apply& node);

// Its inputs read on the host: the size, and multinomial's n, a permutation's n or a choice's
// population size.
std::vector<int> CategoricalHostInputs(const ir::Apply& node);

// The kernels' source for samples of `sample` (and a population vector of `population`, read as
// `sample`): tensord_categorical_uniforms (DrawUniforms'), tensord_check_rows,
// tensord_multinomial, tensord_choice, tensord_permutation, tensord_choice_each and
// tensord_row_totals.
std::string CategoricalSource(DType sample, DType population);

absl::StatusOr<std::unique_ptr<backends::Kernel>> MakeCategoricalKernel(
    const ir::Apply& node, std::shared_ptr<DeviceRuntime> device);

}  // namespace tensord::cuda
