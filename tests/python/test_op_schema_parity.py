"""The client's elementwise type inference (built from the op schema) against the server's: for a
seeded sample of input types per typed op, the client's output type or refusal must be the
server's. Client-accepted cases are compiled in one graph per op and compared with the server's
output types; each client-refused case is sent to the server anyway (through a raw Elemwise that
skips the client's rule), which must refuse it with the same wording."""

import random
import zlib

import pytest

import tensord as theano
import tensord.tensor as T
from tensord import _op_schema, errors
from tensord.tensor.ops import TYPED_ELEMWISE, Elemwise

# float16 is in the wire contract but has no kernels yet: the server refuses it everywhere.
DTYPES = ("bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
          "float32", "float64")
CASES_PER_OP = 50  # about 3000 in all over the schema's typed ops
VARIADIC_ARITY = 3  # enough to show how the server folds its promotion
TYPED_OPS = sorted(sig.name for sig in _op_schema.schema().ops if sig.HasField("typing"))


def _arity(sig):
    return VARIADIC_ARITY if sig.max_inputs < 0 else sig.min_inputs


def _sample_cases(sig):
    """Lists of (dtype, broadcastable) input types, seeded by the op's name (a new op in the
    schema leaves the others' samples unchanged)."""
    rng = random.Random(zlib.crc32(sig.name.encode()))
    cases = []
    for _ in range(CASES_PER_OP):
        # One case in three gives every input the same dtype: refusals like int_div's on bools
        # need all inputs bool, which independent draws would rarely produce.
        same = rng.choice(DTYPES) if rng.random() < 1 / 3 else None
        case = []
        for _ in range(_arity(sig)):
            bcast = tuple(rng.random() < 0.5 for _ in range(rng.randint(0, 3)))
            case.append((same or rng.choice(DTYPES), bcast))
        cases.append(case)
    return cases


def _client_output(sig, variables):
    """The client's output variable, or its TypeError."""
    try:
        return TYPED_ELEMWISE[sig.name](*variables)
    except TypeError as exc:
        return exc


def _server_refusal(sig, variables):
    """The server's refusal of the node the client would not build, or None if it compiles."""
    raw = Elemwise(sig.name, None, lambda dtypes: dtypes[0], min_inputs=len(variables))
    try:
        theano.function(variables, raw(*variables))
    except (errors.InvalidArgument, errors.Unimplemented) as exc:
        return exc
    return None


def _server_types(inputs, outputs):
    """The server's output types for one graph computing all `outputs`, or its error."""
    try:
        return theano.function(inputs, outputs).output_types
    except errors.TensordError as exc:
        return exc


def _describe(case):
    return ", ".join("%s%s" % (dtype, list(bcast)) for dtype, bcast in case)


def _answer(type_or_error):
    if isinstance(type_or_error, Exception):
        return "refuses (%s)" % type_or_error
    return _describe([(type_or_error.dtype, type_or_error.broadcastable)])


def _accepted_disagreements(sig, accepted):
    """Compiles the client-accepted (case, variables, output) triples as one graph; on an error,
    one graph each, so that a disagreement names its case."""
    inputs = [v for _, variables, _ in accepted for v in variables]
    batch = _server_types(inputs, [out for _, _, out in accepted])
    answers = batch
    if isinstance(batch, Exception):
        answers = [_server_types(variables, [out]) for _, variables, out in accepted]
        answers = [a if isinstance(a, Exception) else a[0] for a in answers]
    problems = ["%s(%s): client %s, server %s" % (sig.name, _describe(case), _answer(out.type),
                                                   _answer(got))
                for (case, _, out), got in zip(accepted, answers) if got != out.type]
    if isinstance(batch, Exception) and not problems:
        problems.append("%s: every case compiles alone but not all together (%s)" % (sig.name,
                                                                                      batch))
    return problems


def _refused_disagreements(sig, refused):
    problems = []
    for case, variables, client_error in refused:
        server_error = _server_refusal(sig, variables)
        if server_error is None or str(client_error) not in str(server_error):
            problems.append("%s(%s): client %s, server %s" % (
                sig.name, _describe(case), _answer(client_error),
                "accepts" if server_error is None else _answer(server_error)))
    return problems


@pytest.mark.usefixtures("server")
@pytest.mark.parametrize("name", TYPED_OPS)
def test_client_and_server_infer_the_same_types(name):
    sig = _op_schema.signature(name)
    accepted, refused = [], []
    for case in _sample_cases(sig):
        variables = [T.tensor(dtype, bcast) for dtype, bcast in case]
        out = _client_output(sig, variables)
        (refused if isinstance(out, TypeError) else accepted).append((case, variables, out))
    problems = _accepted_disagreements(sig, accepted) if accepted else []
    problems += _refused_disagreements(sig, refused)
    assert not problems, "\n".join(problems)


def test_the_sample_exercises_refusals_of_every_kind():
    """Guards the sampler: a sample without refusals would compare accepted types only."""
    refusals = set()
    for name in TYPED_OPS:
        sig = _op_schema.signature(name)
        for case in _sample_cases(sig):
            try:
                _op_schema.infer_elementwise(sig, [d for d, _ in case], [b for _, b in case])
            except TypeError as exc:
                refusals.add(str(exc).split(": ", 1)[1].split(" inputs")[0])
    assert refusals == {"not defined for bool", "needs numeric (not bool)",
                        "needs integer or bool"}


REDUCTION_OPS = sorted(sig.name for sig in _op_schema.schema().ops if sig.HasField("reduction"))


def _reduction_cases(sig):
    """(input dtype, broadcastable, axis or None, dtype attribute or None) per case, seeded."""
    rng = random.Random(zlib.crc32(sig.name.encode()))
    accumulates = _op_schema.op_schema_pb2.REDUCED_DTYPE_ACCUMULATE in sig.reduction.outputs
    cases = []
    for dtype in DTYPES:
        for ndim in range(4):
            bcast = tuple(rng.random() < 0.3 for _ in range(ndim))
            axis = None
            if ndim and rng.random() < 0.7:
                axis = tuple(sorted(rng.sample(range(ndim), rng.randint(1, ndim))))
            attr = rng.choice(DTYPES) if accumulates and rng.random() < 0.3 else None
            cases.append((dtype, bcast, axis, attr))
    return cases


@pytest.mark.usefixtures("server")
@pytest.mark.parametrize("name", REDUCTION_OPS)
def test_client_and_server_type_reductions_alike(name):
    """Every reduction's output types, as the client infers them from the schema's reduction
    typing, against the server's, over dtypes, ranks, broadcastable patterns, axes and (for
    sum and prod) the dtype attribute."""
    import numpy as np
    from tensord.tensor.reductions import Reduction

    sig = _op_schema.signature(name)
    inputs, outputs, cases = [], [], []
    for dtype, bcast, axis, attr in _reduction_cases(sig):
        x = T.tensor(dtype, bcast)
        extra = {"dtype": np.dtype(attr)} if attr else None
        outs = Reduction(name, axis, extra=extra)(x)
        outs = outs if isinstance(outs, list) else [outs]
        inputs.append(x)
        outputs.extend(outs)
        cases.append(((dtype, bcast, axis, attr), outs))
    server = _server_types(inputs, outputs)
    assert not isinstance(server, Exception), "%s: the server refuses the batch: %s" % (name,
                                                                                       server)
    problems, k = [], 0
    for case, outs in cases:
        for out in outs:
            if server[k] != out.type:
                problems.append("%s%s: client %s, server %s" % (name, case, _answer(out.type),
                                                               _answer(server[k])))
            k += 1
    assert not problems, "\n".join(problems)
