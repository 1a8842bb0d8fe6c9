"""theano.gradient.verify_grad: a symbolic gradient checked against finite differences."""

import numpy as np

__all__ = ["verify_grad", "numeric_grad", "GradientError"]

# Theano's defaults: the step and the tolerance that suit each precision.
_TYPE_EPS = {"float64": 1e-7, "float32": 3e-4}
_TYPE_TOL = {"float64": 1e-4, "float32": 1e-2}


class GradientError(Exception):
    """The symbolic and numeric gradients of input `arg` differ beyond both tolerances."""

    def __init__(self, arg, err_pos, shape, val1, val2, abs_err, rel_err, abs_tol, rel_tol):
        super().__init__()
        self.arg, self.err_pos, self.shape = arg, err_pos, shape
        self.val1, self.val2 = val1, val2
        self.abs_err, self.rel_err = abs_err, rel_err
        self.abs_tol, self.rel_tol = abs_tol, rel_tol

    def __str__(self):
        return ("GradientError: numeric gradient and analytic gradient exceed tolerance:\n"
                "        At position %d of argument %d with shape %s,\n"
                "            val1 = %f      ,  val2 = %f\n"
                "            abs. error = %f,  abs. tolerance = %f\n"
                "            rel. error = %f,  rel. tolerance = %f"
                % (self.err_pos, self.arg, self.shape, self.val1, self.val2, self.abs_err,
                   self.abs_tol, self.rel_err, self.rel_tol))


class numeric_grad:
    """Central finite differences of the scalar function f at pt (a list of arrays)."""

    def __init__(self, f, pt, eps=None, out_type=None):
        pt = [np.array(p) for p in pt]
        if eps is None:
            # Theano's rule: the largest step any input's precision needs, so that a float32
            # input mixed with float64 ones is not perturbed below its resolution.
            eps = max(_TYPE_EPS.get(str(p.dtype), 1e-7) for p in pt) if pt else 1e-7
        self.gf = []
        for i, p in enumerate(pt):
            g = np.zeros(p.shape, dtype="float64")
            flat = p.reshape(-1)  # a view: perturbs pt[i] in place
            for k in range(flat.size):
                orig = flat[k]
                flat[k] = orig + eps
                plus = float(f(*pt))
                flat[k] = orig - eps
                minus = float(f(*pt))
                flat[k] = orig
                g.reshape(-1)[k] = (plus - minus) / (2 * eps)
            self.gf.append(g)

    @staticmethod
    def abs_rel_err(a, b):
        abs_err = np.abs(a - b)
        rel_err = abs_err / np.maximum(np.abs(a) + np.abs(b), 1e-8)
        return abs_err, rel_err

    def max_err(self, g_pt, abs_tol, rel_tol):
        """(arg, position, abs err, rel err) of the worst element: the one whose error exceeds
        its tolerances by the largest factor."""
        worst = None
        for i, (a, b) in enumerate(zip(self.gf, g_pt)):
            b = np.asarray(b, dtype="float64")
            if a.shape != b.shape:
                raise ValueError("argument %d: numeric gradient shape %s, analytic %s"
                                 % (i, a.shape, b.shape))
            if a.size == 0:
                continue
            abs_err, rel_err = self.abs_rel_err(a, b)
            score = np.minimum(abs_err / abs_tol, rel_err / rel_tol)
            pos = int(np.argmax(score))
            if worst is None or score.flat[pos] > worst[0]:
                worst = (score.flat[pos], i, pos, float(abs_err.flat[pos]),
                         float(rel_err.flat[pos]))
        return worst[1:] if worst else (0, 0, 0.0, 0.0)


def verify_grad(fun, pt, n_tests=2, rng=None, eps=None, out_type=None, abs_tol=None,
                rel_tol=None, mode=None, cast_to_output_type=False, no_debug_ref=True):
    """Raises GradientError unless grad(sum(random_weights * fun(*inputs)), inputs) matches
    finite differences at pt, for n_tests random weightings (theano.gradient.verify_grad)."""
    import tensord
    import tensord.tensor as T
    pt = [np.array(p) for p in pt]
    for i, p in enumerate(pt):
        if p.dtype.kind != "f":
            raise TypeError("verify_grad can work only with floating point inputs, but "
                            "input %d has dtype %s" % (i, p.dtype))
    if rng is None:
        rng = np.random.RandomState(42)
    dtype = str(np.result_type(*[p.dtype for p in pt]))
    abs_tol = abs_tol if abs_tol is not None else max(_TYPE_TOL.get(str(p.dtype), 1e-4)
                                                      for p in pt)
    rel_tol = rel_tol if rel_tol is not None else abs_tol
    inputs = [T.TensorType(p.dtype, tuple(d == 1 for d in p.shape))("input %d" % i)
              for i, p in enumerate(pt)]
    output = fun(*inputs)
    if isinstance(output, (list, tuple)):
        raise ValueError("verify_grad needs a function with a single output, got %d outputs"
                         % len(output))
    output_value = tensord.function(inputs, output, mode=mode)(*pt)
    out_dtype = out_type or output.dtype

    def random_projection():
        return np.asarray(rng.rand(*np.shape(output_value)) + 0.5).astype(out_dtype)

    weights = tensord.shared(random_projection(), name="verify_grad weights")
    cost = T.sum(weights * output)
    cost_fn = tensord.function(inputs, cost, mode=mode)
    grads = tensord.grad(cost, inputs, disconnected_inputs="ignore")
    grad_fn = tensord.function(inputs, grads, mode=mode)
    for _ in range(n_tests):
        numeric = numeric_grad(cost_fn, [p.copy() for p in pt], eps, out_type or dtype)
        analytic = grad_fn(*[p.copy() for p in pt])
        arg, pos, abs_err, rel_err = numeric.max_err(analytic, abs_tol, rel_tol)
        if abs_err > abs_tol and rel_err > rel_tol:
            raise GradientError(arg, pos, pt[arg].shape, numeric.gf[arg].flat[pos],
                                np.asarray(analytic[arg]).flat[pos], abs_err, rel_err,
                                abs_tol, rel_tol)
        weights.set_value(random_projection())


verify_grad.E_grad = GradientError
