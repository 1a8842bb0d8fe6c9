"""Theano's ifelse: a scalar condition picks one of two branches (values or lists of them).

Lazy, as Theano's: the server runs only the nodes the taken branch alone needs (nodes shared with
the condition, the other branch or other outputs always run).
"""

from tensord.graph import Apply, Op

__all__ = ["ifelse", "IfElse"]


class IfElse(Op):
    wire_name = "ifelse"

    def __init__(self, n_outs):
        self.n_outs = n_outs

    def make_node(self, condition, *branches):
        if condition.ndim != 0:
            raise TypeError("The condition argument must be a truthy scalar value, got %s"
                            % condition.type)
        then_b, else_b = branches[:self.n_outs], branches[self.n_outs:]
        for t, e in zip(then_b, else_b):
            if t.type != e.type:
                raise TypeError("The two branches should have identical types, but they are %s "
                                "and %s respectively. This error could be raised if for example "
                                "you provided a one element list on the `then` branch but a "
                                "tensor on the `else` branch." % (t.type, e.type))
        return Apply(self, [condition] + list(branches), [t.type() for t in then_b])

    def __str__(self):
        return "if{}"


def ifelse(condition, then_branch, else_branch, name=None):
    """`then_branch` if the scalar `condition` is nonzero, else `else_branch`; lists/tuples of
    equal length give a list/tuple of results."""
    from tensord.tensor.basic import as_tensor_variable
    rval_type = type(then_branch) if isinstance(then_branch, (list, tuple)) else None
    then_list = list(then_branch) if rval_type else [then_branch]
    else_list = list(else_branch) if isinstance(else_branch, (list, tuple)) else [else_branch]
    if len(then_list) != len(else_list):
        raise ValueError("The number of values on the `then` branch should have the same number "
                         "of variables as the `else` branch : (variables on `then` %d, variables "
                         "on `else` %d)" % (len(then_list), len(else_list)))
    condition = as_tensor_variable(condition)
    then_list = [as_tensor_variable(v) for v in then_list]
    else_list = [as_tensor_variable(v) for v in else_list]
    node = IfElse(len(then_list)).make_node(condition, *then_list, *else_list)
    outs = node.outputs
    if name is not None:
        for o in outs:
            o.name = name
    if rval_type is None:
        return outs[0]
    return rval_type(outs)
