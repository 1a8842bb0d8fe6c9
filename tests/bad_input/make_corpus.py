"""Writes the bad-input corpus (tests/bad_input/corpus.jsonl): requests a hostile or careless
client could send, each with the status code and the words the server must answer with.
tests/python/test_bad_input_corpus.py sends every case to a live server, checks the answer and
that the server still serves. Run this again after changing the wire contract or the op schema:

    python3 tests/bad_input/make_corpus.py

Each line is {"name", "rpc", "request" (the request in protobuf text format), "code", "says"}.
Placeholders the runner fills in: $SESSION (a session of its own), $FUNCTION (a function there
adding two float32 matrices), $SHARED (a float32 matrix shared variable there).
"""

import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
SCHEMA = os.path.join(HERE, "..", "..", "proto", "tensord", "v1", "op_schema.json")

MATRIX = "type { dtype: DT_FLOAT32 broadcastable: [false, false] }"
SCALAR = "type { dtype: DT_FLOAT32 }"

# Every RPC that names a session, with a request that is otherwise harmless.
SESSION_RPCS = {
    "CloseSession": "",
    "SaveSession": "",
    "CreateShared": 'value { dtype: DT_FLOAT32 shape: [1] data: "\\000\\000\\000\\000" }',
    "GetShared": 'id: "shared-1"',
    "SetShared": 'id: "shared-1"',
    "DeleteShared": 'id: "shared-1"',
    "ListShared": "",
    "Differentiate": "",
    "Compile": "",
    "Run": 'function_id: "fn-1"',
    "DescribeFunction": 'function_id: "fn-1"',
    "GetProfile": 'function_id: "fn-1"',
    "ResetProfile": 'function_id: "fn-1"',
    "ReleaseFunction": 'function_id: "fn-1"',
    "FetchRef": 'id: "ref"',
    "ReleaseRefs": 'ids: ["ref"]',
    "RegisterSharedMemory": 'name: "r" key: "/tensord-x" byte_size: 1',
    "UnregisterSharedMemory": 'name: "r"',
}

DTYPES = {  # name: bytes per element
    "DT_BOOL": 1, "DT_INT8": 1, "DT_INT16": 2, "DT_INT32": 4, "DT_INT64": 8, "DT_UINT8": 1,
    "DT_UINT16": 2, "DT_UINT32": 4, "DT_UINT64": 8, "DT_FLOAT32": 4, "DT_FLOAT64": 8,
}


def case(name, rpc, request, code, says):
    return {"name": name, "rpc": rpc, "request": request, "code": code, "says": says}


def graph(applies, n_inputs, outputs=(100,), out_type=MATRIX, extra_vars=""):
    variables = "".join('variables { id: %d %s input {} } ' % (i, MATRIX)
                        for i in range(1, n_inputs + 1))
    variables += "".join('variables { id: %d %s output {} } ' % (o, out_type) for o in outputs)
    return "graph { %s%s %s inputs: [%s] outputs: [%s] }" % (
        variables, extra_vars, applies, ", ".join(str(i) for i in range(1, n_inputs + 1)),
        ", ".join(str(o) for o in outputs))


def compile_request(spec):
    return 'session_id: "$SESSION" spec { %s }' % spec


def apply(op, n_inputs, attrs=""):
    return 'applies { op: "%s" inputs: [%s] outputs: [100] %s }' % (
        op, ", ".join(str(i) for i in range(1, n_inputs + 1)), attrs)


def arity_words(op):
    lo, hi = op.get("min_inputs", 0), op["max_inputs"]
    if hi < 0:
        return "at least %d" % lo
    return "%d" % lo if lo == hi else "%d to %d" % (lo, hi)


def session_cases():
    out = []
    for rpc, rest in SESSION_RPCS.items():
        out.append(case("%s/empty-session" % rpc, rpc, rest, "INVALID_ARGUMENT",
                        "session_id is empty"))
        out.append(case("%s/unknown-session" % rpc, rpc,
                        'session_id: "00000000000000000000000000000000" ' + rest, "NOT_FOUND",
                        "unknown session"))
        # A 64 KiB id: answered NOT_FOUND with the id cut short, not an oversized header.
        out.append(case("%s/huge-session-id" % rpc, rpc,
                        'session_id: "%s" %s' % ("f" * 65536, rest), "NOT_FOUND",
                        "unknown session"))
    return out


def op_cases(ops):
    out = []
    for op in ops:
        name, lo, hi = op["name"], op.get("min_inputs", 0), op["max_inputs"]
        bodies = op["name"] in ("scan", "scan_grad")  # the ops with inner graphs
        if bodies:
            out.append(case("Compile/%s/without-bodies" % name, "Compile",
                            compile_request(graph(apply(name, max(lo, 1)), max(lo, 1))),
                            "INVALID_ARGUMENT", "op '%s' takes" % name))
        else:
            attr = 'attrs { key: "bogus_attr" value { i: 1 } }'
            took = ", ".join(op["attrs"]) if op.get("attrs") else "none"
            out.append(case("Compile/%s/unknown-attribute" % name, "Compile",
                            compile_request(graph(apply(name, lo, attr), lo)),
                            "INVALID_ARGUMENT",
                            "op '%s' has no attribute 'bogus_attr' (it takes %s)" % (name, took)))
        if hi >= 0:
            out.append(case("Compile/%s/too-many-inputs" % name, "Compile",
                            compile_request(graph(apply(name, hi + 1), hi + 1)),
                            "INVALID_ARGUMENT",
                            "op '%s' takes %s inputs, got %d" % (name, arity_words(op), hi + 1)))
        if lo > 0:
            out.append(case("Compile/%s/too-few-inputs" % name, "Compile",
                            compile_request(graph(apply(name, lo - 1), lo - 1)),
                            "INVALID_ARGUMENT",
                            "op '%s' takes %s inputs, got %d" % (name, arity_words(op), lo - 1)))
    return out


def tensor_cases():
    out = []
    for dtype, size in DTYPES.items():
        short = "\\000" * (2 * size - 1)
        out.append(case("CreateShared/%s/short-data" % dtype, "CreateShared",
                        'session_id: "$SESSION" value { dtype: %s shape: [2] data: "%s" }'
                        % (dtype, short), "INVALID_ARGUMENT",
                        "needs %d bytes of data, got %d" % (2 * size, 2 * size - 1)))
        out.append(case("CreateShared/%s/negative-dimension" % dtype, "CreateShared",
                        'session_id: "$SESSION" value { dtype: %s shape: [-1] }' % dtype,
                        "INVALID_ARGUMENT", "negative"))
        out.append(case("CreateShared/%s/shape-overflows" % dtype, "CreateShared",
                        'session_id: "$SESSION" value { dtype: %s shape: [4294967296, '
                        '4294967296, 4294967296] }' % dtype, "RESOURCE_EXHAUSTED",
                        "--max_tensor_bytes"))
        # A float32 input takes the dtypes it holds exactly (Theano's rule); the others need
        # allow_input_downcast.
        exact = dtype in ("DT_BOOL", "DT_INT8", "DT_INT16", "DT_UINT8", "DT_UINT16", "DT_FLOAT32")
        out.append(case("Run/%s/input-to-a-float32-input" % dtype, "Run",
                        'session_id: "$SESSION" function_id: "$FUNCTION" inputs { dtype: %s '
                        'shape: [1, 1] data: "%s" } inputs { dtype: DT_FLOAT32 shape: [1, 1] '
                        'data: "\\000\\000\\000\\000" }' % (dtype, "\\000" * size),
                        "OK" if exact else "INVALID_ARGUMENT",
                        "" if exact else "cannot store a value of dtype"))
    out += [
        case("CreateShared/float16", "CreateShared",
             'session_id: "$SESSION" value { dtype: DT_FLOAT16 shape: [1] data: "\\000\\000" }',
             "UNIMPLEMENTED", "float16"),
        case("CreateShared/unknown-dtype-number", "CreateShared",
             'session_id: "$SESSION" value { dtype: 99 shape: [1] data: "\\000" }',
             "INVALID_ARGUMENT", "99"),
        case("CreateShared/unset-dtype", "CreateShared",
             'session_id: "$SESSION" value { shape: [1] data: "\\000" }',
             "INVALID_ARGUMENT", "dtype"),
        case("CreateShared/bool-byte-2", "CreateShared",
             'session_id: "$SESSION" value { dtype: DT_BOOL shape: [2] data: "\\001\\002" }',
             "INVALID_ARGUMENT", "bool"),
        case("CreateShared/too-much-data", "CreateShared",
             'session_id: "$SESSION" value { dtype: DT_INT8 shape: [1] data: "\\000\\000" }',
             "INVALID_ARGUMENT", "needs 1 bytes of data, got 2"),
        case("CreateShared/no-value", "CreateShared", 'session_id: "$SESSION"',
             "INVALID_ARGUMENT", ""),
        case("CreateShared/broadcastable-dimension-of-2", "CreateShared",
             'session_id: "$SESSION" value { dtype: DT_INT8 shape: [2] data: "\\000\\000" } '
             'broadcastable: [true]', "INVALID_ARGUMENT", "broadcastable"),
        case("CreateShared/unknown-target", "CreateShared",
             'session_id: "$SESSION" target: "gpu9" value { dtype: DT_INT8 shape: [1] '
             'data: "\\000" }', "FAILED_PRECONDITION", "unknown context 'gpu9'"),
    ]
    return out


def graph_cases():
    add = apply("add", 2)
    good = graph(add, 2)
    spec = lambda text: compile_request(text)  # noqa: E731
    return [
        case("Compile/empty-spec", "Compile", 'session_id: "$SESSION"', "OK", ""),  # function([], [])
        case("Compile/unknown-op", "Compile", spec(graph(apply("frobnicate", 2), 2)),
             "INVALID_ARGUMENT", "unknown op 'frobnicate'"),
        case("Compile/dangling-input-id", "Compile",
             spec(good.replace("inputs: [1, 2] outputs: [100] ", "inputs: [1, 7] outputs: [100] ")),
             "INVALID_ARGUMENT", "7"),
        case("Compile/unknown-output-id", "Compile",
             spec(good.replace("outputs: [100] }", "outputs: [42] }")),
             "INVALID_ARGUMENT", "42"),
        case("Compile/variable-without-source", "Compile",
             spec("graph { variables { id: 1 %s } outputs: [1] }" % MATRIX),
             "INVALID_ARGUMENT", "has no source"),
        case("Compile/duplicate-variable-id", "Compile",
             spec(graph(add, 2, extra_vars="variables { id: 1 %s input {} }" % MATRIX)),
             "INVALID_ARGUMENT", "1"),
        case("Compile/declared-type-disagrees", "Compile",
             spec(graph(add, 2, out_type="type { dtype: DT_INT8 broadcastable: [false, false] }")),
             "INVALID_ARGUMENT", "but the op produces"),
        case("Compile/declared-rank-disagrees", "Compile",
             spec(graph(add, 2, out_type=SCALAR)), "INVALID_ARGUMENT", "but the op produces"),
        case("Compile/output-produced-twice", "Compile",
             spec(graph(add + " " + add, 2)), "INVALID_ARGUMENT", "100"),
        case("Compile/apply-output-never-produced", "Compile",
             spec(graph("", 2)), "INVALID_ARGUMENT", "100"),
        case("Compile/unknown-shared-variable", "Compile",
             spec(graph(add, 1, extra_vars='variables { id: 2 %s shared { id: "shared-404" } }'
                        % MATRIX).replace("inputs: [1]", "inputs: [1]")),
             "NOT_FOUND", "shared-404"),
        case("Compile/shared-variable-of-another-type", "Compile",
             spec(graph(add, 1, extra_vars='variables { id: 2 %s shared { id: "$SHARED" } }'
                        % SCALAR)), "INVALID_ARGUMENT", "has type"),
        case("Compile/unknown-mode", "Compile", spec(good + ' mode: "TURBO"'),
             "INVALID_ARGUMENT", "unknown mode 'TURBO'"),
        case("Compile/unknown-context", "Compile", spec(good + ' context: "dev99"'),
             "FAILED_PRECONDITION", "unknown context 'dev99'"),
        case("Compile/unknown-optimizer-pass", "Compile",
             spec(good + ' optimizer_excluding: "no_such_pass"'),
             "INVALID_ARGUMENT", "no_such_pass"),
        case("Compile/update-of-an-input", "Compile",
             spec(good + " updates { variable: 1 value: 100 }"), "INVALID_ARGUMENT", "update"),
        case("Compile/update-with-unknown-value", "Compile",
             spec(good + " updates { variable: 1 value: 555 }"), "INVALID_ARGUMENT", "555"),
        case("Compile/given-of-unknown-variable", "Compile",
             spec(good + " givens { variable: 555 value: 1 }"), "INVALID_ARGUMENT", "555"),
        case("Compile/nesting-past-the-limit", "Compile",
             'session_id: "$SESSION" spec { graph { %s } }'
             % ('applies { op: "scan" bodies { ' * 60 + "} }" * 60),
             "INVALID_ARGUMENT", "nest"),
        case("Differentiate/no-cost", "Differentiate",
             'session_id: "$SESSION" %s wrt: [1]' % good, "INVALID_ARGUMENT", "cost"),
        case("Differentiate/cost-not-scalar", "Differentiate",
             'session_id: "$SESSION" %s cost: 100 wrt: [1]' % good, "INVALID_ARGUMENT",
             "scalar"),
        case("Differentiate/unknown-cost", "Differentiate",
             'session_id: "$SESSION" %s cost: 555 wrt: [1]' % good, "INVALID_ARGUMENT", "555"),
        case("Differentiate/unknown-wrt", "Differentiate",
             'session_id: "$SESSION" %s cost: 100 wrt: [555]' % good.replace(MATRIX, SCALAR),
             "INVALID_ARGUMENT", "555"),
        case("Differentiate/bad-disconnected-inputs", "Differentiate",
             'session_id: "$SESSION" %s cost: 100 wrt: [1] disconnected_inputs: "explode"'
             % good.replace(MATRIX, SCALAR), "INVALID_ARGUMENT", "explode"),
    ]


def handle_cases():
    s = 'session_id: "$SESSION" '
    return [
        case("Run/unknown-function", "Run", s + 'function_id: "fn-404"', "NOT_FOUND", "fn-404"),
        case("Run/no-inputs", "Run", s + 'function_id: "$FUNCTION"', "INVALID_ARGUMENT",
             "takes 2 inputs, got 0"),
        case("Run/inputs-and-args", "Run",
             s + 'function_id: "$FUNCTION" inputs { dtype: DT_FLOAT32 shape: [1, 1] data: '
             '"\\000\\000\\000\\000" } args { tensor { dtype: DT_FLOAT32 shape: [1, 1] data: '
             '"\\000\\000\\000\\000" } }', "INVALID_ARGUMENT", "not both"),
        case("Run/empty-arg", "Run", s + 'function_id: "$FUNCTION" args {} args {}',
             "INVALID_ARGUMENT", "an empty value"),
        case("Run/unknown-ref", "Run",
             s + 'function_id: "$FUNCTION" args { ref { id: "nope" } } args { ref { id: "x" } }',
             "NOT_FOUND", "nope"),
        case("Run/vector-for-a-matrix", "Run",
             s + 'function_id: "$FUNCTION" inputs { dtype: DT_FLOAT32 shape: [1] data: '
             '"\\000\\000\\000\\000" } inputs { dtype: DT_FLOAT32 shape: [1] data: '
             '"\\000\\000\\000\\000" }', "INVALID_ARGUMENT", "has 1 dimensions"),
        case("Run/shapes-that-do-not-broadcast", "Run",
             s + 'function_id: "$FUNCTION" inputs { dtype: DT_FLOAT32 shape: [1, 2] data: "%s" }'
             ' inputs { dtype: DT_FLOAT32 shape: [1, 3] data: "%s" }'
             % ("\\000" * 8, "\\000" * 12), "INVALID_ARGUMENT", "cannot be broadcast"),
        case("DescribeFunction/unknown", "DescribeFunction", s + 'function_id: "fn-404"',
             "NOT_FOUND", "fn-404"),
        case("GetProfile/not-profiled", "GetProfile", s + 'function_id: "$FUNCTION"',
             "FAILED_PRECONDITION", "profile=True"),
        case("ResetProfile/unknown", "ResetProfile", s + 'function_id: "fn-404"', "NOT_FOUND",
             "fn-404"),
        case("ReleaseFunction/unknown", "ReleaseFunction", s + 'function_id: "fn-404"',
             "NOT_FOUND", "fn-404"),
        case("GetShared/unknown", "GetShared", s + 'id: "shared-404"', "NOT_FOUND", "shared-404"),
        case("SetShared/unknown", "SetShared", s + 'id: "shared-404"', "NOT_FOUND", "shared-404"),
        case("SetShared/wrong-dtype", "SetShared",
             s + 'id: "$SHARED" value { dtype: DT_INT8 shape: [1, 1] data: "\\000" }',
             "INVALID_ARGUMENT", "int8"),
        case("SetShared/wrong-rank", "SetShared",
             s + 'id: "$SHARED" value { dtype: DT_FLOAT32 shape: [1] data: "\\000\\000\\000\\000" }',
             "INVALID_ARGUMENT", "dimensions"),
        case("SetShared/no-value", "SetShared", s + 'id: "$SHARED"', "INVALID_ARGUMENT", ""),
        case("DeleteShared/unknown", "DeleteShared", s + 'id: "shared-404"', "NOT_FOUND",
             "shared-404"),
        case("FetchRef/unknown", "FetchRef", s + 'id: "ref-404"', "NOT_FOUND", "ref-404"),
        case("ReleaseRefs/unknown", "ReleaseRefs", s + 'ids: ["ref-404"]', "NOT_FOUND",
             "ref-404"),
        case("ReleaseRefs/unknown-ignored", "ReleaseRefs",
             s + 'ids: ["ref-404"] ignore_unknown: true', "OK", ""),
        case("RegisterSharedMemory/not-tensord", "RegisterSharedMemory",
             s + 'name: "r" key: "/dev/shm/../../etc/passwd" byte_size: 1', "INVALID_ARGUMENT",
             "must be \"/tensord\""),
        case("RegisterSharedMemory/missing", "RegisterSharedMemory",
             s + 'name: "r" key: "/tensord-404" byte_size: 16 proof: "0123456789abcdef"',
             "NOT_FOUND", "tensord-404"),
        case("RegisterSharedMemory/short-proof", "RegisterSharedMemory",
             s + 'name: "r" key: "/tensord-404" byte_size: 16 proof: "0123"', "INVALID_ARGUMENT",
             "the proof must be 16 bytes"),
        case("RegisterSharedMemory/no-name", "RegisterSharedMemory",
             s + 'key: "/tensord-404"', "INVALID_ARGUMENT", "needs a name"),
        case("RegisterSharedMemory/negative", "RegisterSharedMemory",
             s + 'name: "r" key: "/tensord-404" offset: -1', "INVALID_ARGUMENT", "negative"),
        case("UnregisterSharedMemory/unknown", "UnregisterSharedMemory", s + 'name: "r-404"',
             "NOT_FOUND", "r-404"),
        case("Run/shm-unknown-region", "Run",
             s + 'function_id: "$FUNCTION" args { shm { region: "r-404" dtype: DT_FLOAT32 '
             'shape: [1, 1] } } args { shm { region: "r-404" dtype: DT_FLOAT32 shape: [1, 1] } }',
             "NOT_FOUND", "r-404"),
        case("Run/shm-too-many-slots", "Run",
             s + 'function_id: "$FUNCTION" output_slots { region: "r" byte_size: 4 } '
             'output_slots { region: "r" offset: 4 byte_size: 4 }', "INVALID_ARGUMENT",
             "output_slots has 2 entries"),
        case("Run/shm-negative-slot", "Run",
             s + 'function_id: "$FUNCTION" output_slots { region: "r" offset: -8 byte_size: 4 }',
             "INVALID_ARGUMENT", "output 0"),
        case("ListSessions/admin-rpcs-off", "ListSessions", "", "PERMISSION_DENIED",
             "--enable_admin_rpcs"),
        case("ListFunctions/admin-rpcs-off", "ListFunctions", s, "PERMISSION_DENIED",
             "--enable_admin_rpcs"),
    ]


def main():
    with open(SCHEMA) as f:
        ops = json.load(f)["ops"]
    cases = session_cases() + op_cases(ops) + tensor_cases() + graph_cases() + handle_cases()
    names = [c["name"] for c in cases]
    assert len(names) == len(set(names)), "case names must be unique"
    path = os.path.join(HERE, "corpus.jsonl")
    with open(path, "w") as f:
        for c in cases:
            f.write(json.dumps(c, sort_keys=True) + "\n")
    print("wrote %d cases to %s" % (len(cases), path))


if __name__ == "__main__":
    main()
