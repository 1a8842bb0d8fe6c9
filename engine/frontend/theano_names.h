// How Theano prints ops and constants, for debugprint and DOT output of the server's graphs
// (the Python client prints its own graphs the same way: clients/python/tensord/tensor/ops.py).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "engine/ir/graph.h"

namespace tensord::ir {

// (output, input) pairs a node overwrites (Theano's destroy_map), read from its attributes:
// `destroy_map` (ints, output/input pairs) or `inplace` (int: the input output 0 overwrites).
std::vector<std::pair<int, int>> DestroyMap(const Apply& node);

// Theano's name of a node's op: "Elemwise{add,no_inplace}", once inplace "Elemwise{Add}[(0, 0)]",
// "Elemwise{Composite{((i0 + i1) * i0)}}[(0, 0)]", "InplaceDimShuffle{x,0}",
// "Sum{axis=[0], acc_dtype=float64}", "Reshape{2}", "dot", ...; other ops by their wire name
// with their scalar attributes.
std::string TheanoOpName(const Apply& node);

// "(x, 2)": a node's arguments as labels print them, constants by value. `theano`: unnamed
// intermediates as Theano's str() prints them, "Elemwise{exp,no_inplace}.0" (profiles).
std::string NodeArgs(const Apply& node, bool theano = false);

// "add(x, 2)", how errors name a node (kernels', NanGuardMode's, placement's): a fused node by
// its expression, "Composite{(i0 * log(i1))}(x, y)", which says more than "composite".
std::string NodeLabel(const Apply& node);

// A constant as Theano's TensorConstant prints it: "2", "0.5", "(3,) of 0.0", "[1. 2. 3.]"
// (long texts cut in the middle to 20 characters, as Theano does).
std::string ConstantText(const Variable& constant);

}  // namespace tensord::ir
