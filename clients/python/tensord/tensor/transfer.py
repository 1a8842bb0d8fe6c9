"""Variable.transfer: a value moved to another device context (Theano's GpuFromHost,
HostFromGpu, GpuToGpu). The server places every node itself (its placement pass); a transfer
pins a value to a context, and a function output transferred to a device stays there."""

from tensord.graph import Apply, Op

HOST = "cpu"


class Transfer(Op):
    wire_name = "transfer"

    def __init__(self, target):
        self.target = target  # a context name, or None for the default context

    def attrs(self):
        return {"target": self.target or ""}

    def make_node(self, x):
        context = None if self.target == HOST else (self.target or "None")
        return Apply(self, [x], [x.type.on(context)()])

    def __str__(self):
        if self.target == HOST:
            return "HostFromGpu(gpuarray)"
        return "GpuFromHost<%s>" % (self.target or "None")


def transfer(x, target):
    """x on context `target` ('cpu', a context name such as 'dev0', or None for the default
    context). transfer('cpu') of a value in host memory is x itself."""
    from tensord.tensor.basic import as_tensor_variable
    x = as_tensor_variable(x)
    if target == HOST and x.type.context is None:
        return x
    if target is not None and not isinstance(target, str):
        raise TypeError("transfer target must be a context name or None, got %r" % (target,))
    return Transfer(target)(x)
