// Finite-difference checks of the grad rules in elementwise_math.cc.
#include <gtest/gtest.h>

#include "engine/grad/testing/grad_check.h"

namespace tensord::ops {
namespace {

using grad::testing::ExpectGradMatchesFiniteDifferences;
using grad::testing::GradCheck;
using grad::testing::RandomTensor;

}  // namespace
}  // namespace tensord::ops
