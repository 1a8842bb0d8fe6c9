"""map, reduce, foldl and foldr: scan with fixed outputs_info / direction, as Theano's
scan_views defines them."""

from tensord.scan_module.scan import scan

__all__ = ["map", "reduce", "foldl", "foldr"]


def map(fn, sequences, non_sequences=None, truncate_gradient=-1, go_backwards=False,  # noqa: A001
        mode=None, name=None):
    """fn applied to every step of the sequences; no state is fed back."""
    return scan(fn=fn, sequences=sequences, outputs_info=[], non_sequences=non_sequences,
                truncate_gradient=truncate_gradient, go_backwards=go_backwards, mode=mode,
                name=name)


def reduce(fn, sequences, outputs_info, non_sequences=None,  # noqa: A001 - Theano's name
           go_backwards=False, mode=None, name=None):
    """scan keeping only the last step of each output."""
    outputs, updates = scan(fn=fn, sequences=sequences, outputs_info=outputs_info,
                            non_sequences=non_sequences, go_backwards=go_backwards,
                            truncate_gradient=-1, mode=mode, name=name)
    if isinstance(outputs, (list, tuple)):
        return [x[-1] for x in outputs], updates
    return outputs[-1], updates


def foldl(fn, sequences, outputs_info, non_sequences=None, mode=None, name=None):
    """reduce from the first step to the last."""
    return reduce(fn=fn, sequences=sequences, outputs_info=outputs_info,
                  non_sequences=non_sequences, go_backwards=False, mode=mode, name=name)


def foldr(fn, sequences, outputs_info, non_sequences=None, mode=None, name=None):
    """reduce from the last step to the first."""
    return reduce(fn=fn, sequences=sequences, outputs_info=outputs_info,
                  non_sequences=non_sequences, go_backwards=True, mode=mode, name=name)
