// Elementwise arithmetic: add, sub, mul, true_div, pow, neg, exp, log.
#include "engine/ops/defs/elementwise_decl.h"
#include "engine/ops/register_all.h"
#include "engine/ops/scalar/arithmetic.h"

namespace tensord::ops {

void RegisterElementwise(Registry& r) {
  const ElementwiseTyping upcast{ElemDTypeRule::kUpcast};
  const ElementwiseTyping no_bool{ElemDTypeRule::kUpcastNoBool};
  const ElementwiseTyping to_float{ElemDTypeRule::kUpgradeToFloat};
  r.Add(Elementwise<scalar::Add, 2>({.name = "add",
                                     .min_inputs = 2,
                                     .max_inputs = -1,
                                     .doc = "add(a, b, ...) -> a + b + ... (numpy.add)",
                                     .typing = upcast,
                                     .theano = {"add", "Add"},
                                     .tags = kTagCommutative,
                                     .opcode = 1,
                                     .format = "($0 + $1)"}));
  r.Add(Elementwise<scalar::Mul, 2>({.name = "mul",
                                     .min_inputs = 2,
                                     .max_inputs = -1,
                                     .doc = "mul(a, b, ...) -> a * b * ... (numpy.multiply)",
                                     .typing = upcast,
                                     .theano = {"mul", "Mul"},
                                     .tags = kTagCommutative,
                                     .opcode = 3,
                                     .format = "($0 * $1)"}));
  r.Add(Elementwise<scalar::Sub, 2>({.name = "sub",
                                     .min_inputs = 2,
                                     .max_inputs = 2,
                                     .doc = "sub(a, b) -> a - b (numpy.subtract)",
                                     .typing = no_bool,
                                     .theano = {"sub", "Sub"},
                                     .opcode = 2,
                                     .format = "($0 - $1)"}));
  r.Add(Elementwise<scalar::TrueDiv, 2>({.name = "true_div",
                                         .min_inputs = 2,
                                         .max_inputs = 2,
                                         .doc = "true_div(a, b) -> a / b (numpy.true_divide)",
                                         .typing = to_float,
                                         .theano = {"true_div", "TrueDiv"},
                                         .opcode = 4,
                                         .format = "($0 / $1)"}));
  r.Add(Elementwise<scalar::Pow, 2>({.name = "pow",
                                     .min_inputs = 2,
                                     .max_inputs = 2,
                                     .doc = "pow(a, b) -> a ** b (numpy.power)",
                                     .typing = upcast,
                                     .theano = {"pow", "Pow"},
                                     .opcode = 5,
                                     .format = "pow($0, $1)"}));
  r.Add(Elementwise<scalar::Neg, 1>({.name = "neg",
                                     .doc = "neg(a) -> -a (numpy.negative)",
                                     .typing = no_bool,
                                     .theano = {"neg", "Neg"},
                                     .opcode = 6,
                                     .format = "(-$0)"}));
  r.Add(Elementwise<scalar::Exp, 1>({.name = "exp",
                                     .doc = "exp(a) (numpy.exp)",
                                     .typing = to_float,
                                     .theano = {"exp", "Exp"},
                                     .opcode = 7,
                                     .format = "exp($0)"}));
  r.Add(Elementwise<scalar::Log, 1>({.name = "log",
                                     .doc = "log(a) (numpy.log)",
                                     .typing = to_float,
                                     .theano = {"log", "Log"},
                                     .opcode = 8,
                                     .format = "log($0)"}));
}

}  // namespace tensord::ops
