"""Function: the callable handle of a compiled function, and its profile."""

import pickle
import time
import weakref

import numpy as np

from tensord import _run_wire
from tensord._proto import compute_pb2
from tensord.compile.run_errors import augment_run_error
from tensord.device_array import DeviceArray
from tensord.config import config
from tensord.config import values as config_values
from tensord.errors import UNSETTLED, NotFound, TensordError
from tensord.sparse import function_io as sparse_io
from tensord.sparse.variable import is_sparse_variable
from tensord.tensor.type import TensorType

__all__ = ["Function", "FunctionProfile"]


class FunctionProfile:
    """f.profile when compiled with profile=True (Theano's ProfileStats): the server accumulates
    per-instruction times across calls; this side adds the wall time of Function.__call__."""

    def __init__(self, function):
        self._function = function
        self.fct_callcount = 0      # client calls, as Theano counts them
        self.fct_call_time = 0.0    # seconds in Function.__call__, measured here

    def _record_call(self, seconds):
        self.fct_callcount += 1
        self.fct_call_time += seconds

    def data(self):
        """The server's GetProfileResponse: calls, times, one ApplyProfile per node and the
        optimizer's passes; the summary has the optimizer table when config.profile_optimizer."""
        client, fn = self._function._client, self._function
        return client.call("GetProfile", compute_pb2.GetProfileRequest(
            session_id=client.session_id, function_id=fn.function_id,
            client_call_ns=int(self.fct_call_time * 1e9),
            optimizer_profile=bool(config.profile_optimizer)))

    def summary_text(self):
        return self.data().summary

    def summary(self, file=None):
        import sys
        print(self.summary_text(), file=file or sys.stdout)

    def chrome_trace(self, path=None):
        """The last call's per-node timeline as Chrome trace JSON (open it in Perfetto or
        chrome://tracing); written to `path` when given. Empty before the first call."""
        text = self.data().chrome_trace
        if path is not None:
            with open(path, "w") as f:
                f.write(text)
        return text

    def reset(self):
        client, fn = self._function._client, self._function
        client.call("ResetProfile", compute_pb2.ResetProfileRequest(
            session_id=client.session_id, function_id=fn.function_id))
        self.fct_callcount = 0
        self.fct_call_time = 0.0


class Function:
    """Calls Run on the server with inputs filtered as Theano's TensorType.filter does."""

    def __init__(self, spec, inputs, outputs, return_list, allow_input_downcast, ins=None):
        from tensord.compile.io import In
        from tensord.connection import get_client
        self._client = get_client()
        self.name = spec.name
        self.inputs = list(inputs)
        self.outputs = list(outputs)
        # The graph's own inputs and outputs: a sparse matrix is four of them (its components).
        self._wire_inputs = sparse_io.flatten(self.inputs)
        self._wire_outputs = sparse_io.flatten(self.outputs)
        self._sparse_outputs = any(is_sparse_variable(v) for v in self.outputs)
        self.spec = spec
        self._return_list = return_list
        self.allow_input_downcast = allow_input_downcast
        # How each input is taken (theano.In: keyword name, default, strict, allow_downcast).
        self._ins = list(ins) if ins is not None else [In(v) for v in self.inputs]
        # Keyword names; a name two inputs share is ambiguous (None), an error only when used.
        self._input_index = {}
        for i, d in enumerate(self._ins):
            if d.name:
                self._input_index[d.name] = None if d.name in self._input_index else i
        resp = self._client.call("Compile", compute_pb2.CompileRequest(
            session_id=self._client.session_id, spec=spec))
        self.function_id = resp.function_id
        # The server keeps a handle per compiled function (bounded by its
        # --max_functions_per_session): release it once this object is garbage.
        weakref.finalize(self, self._client.release_later, resp.function_id)
        self.fingerprint = resp.fingerprint
        self.cache_hit = resp.cache_hit
        self.compile_ns = resp.compile_ns
        self.node_count = resp.node_count
        self.nodes_before_optimization = resp.nodes_before_optimization
        self.optimizer_ns = resp.optimizer_ns
        self.input_types = [TensorType.from_proto(t) for t in resp.input_types]
        self.output_types = [TensorType.from_proto(t) for t in resp.output_types]
        self.profile = FunctionProfile(self) if spec.profile else None
        self.last_run_ns = None
        # How to make this function again (function()'s arguments, then copies): what a pickle
        # holds, since a compiled function lives on the server.
        self._recipe = None
        # theano.printing.Print ops whose values are the last outputs (printed, not returned).
        self._prints = []
        # MonitorMode's callbacks (compile/monitor.py), run before each call.
        self._monitor = None
        # The bytes each RunRequest of this function starts with (made on the first call).
        self._run_prefix = None
        # Each output's bytes in the last call through shared memory: the slots the next asks
        # for (config.shared_memory).
        self._output_nbytes = None

    def _arguments(self, args, kwargs):
        n = len(self.inputs)
        if len(args) > n:
            raise TypeError("Function %s takes %d argument%s but %d were given"
                            % (self.name, n, "" if n == 1 else "s", len(args)))
        values = list(args) + [_MISSING] * (n - len(args))
        for i in range(len(args), n):
            if self._ins[i].has_default:
                values[i] = self._ins[i].value
        for key, value in kwargs.items():
            if key not in self._input_index:
                raise TypeError("Function %s has no input named %r" % (self.name, key))
            i = self._input_index[key]
            if i is None:
                raise TypeError("Function %s: ambiguous name %r (several inputs have it); pass "
                                "it by position" % (self.name, key))
            if i < len(args):
                raise TypeError("Function %s got multiple values for input %r" % (self.name, key))
            values[i] = value
        missing = [str(self.inputs[i]) for i, v in enumerate(values) if v is _MISSING]
        if missing:
            raise TypeError("Function %s takes %d argument%s but %d were given (missing: %s)"
                            % (self.name, n, "" if n == 1 else "s", n - len(missing),
                               ", ".join(missing)))
        return values

    def __call__(self, *args, **kwargs):
        if self.profile is None:
            return self._call(args, kwargs)
        start = time.perf_counter()
        out = self._call(args, kwargs)
        self.profile._record_call(time.perf_counter() - start)
        return out

    def _call(self, args, kwargs):
        # Every argument given by position: nothing to match (the loop's common call).
        if kwargs or len(args) != len(self.inputs):
            values = self._arguments(args, kwargs)
        else:
            values = args
        wire_values = []  # one per graph input: a sparse argument gives four arrays
        for i, (var, value) in enumerate(zip(self.inputs, values)):
            sparse = is_sparse_variable(var)
            if isinstance(value, DeviceArray) and not sparse:
                wire_values.append(value)
                continue
            taken = self._ins[i]
            allow_downcast = (taken.allow_downcast if taken.allow_downcast is not None
                              else self.allow_input_downcast)
            try:
                if sparse:
                    arrays = sparse_io.input_arrays(var, value, taken.strict, allow_downcast)
                else:
                    arrays = [var.type.filter(value, strict=taken.strict,
                                              allow_downcast=allow_downcast)]
            except (TypeError, ValueError) as exc:
                if not sparse and not isinstance(exc, TypeError):
                    raise
                # Theano's wording (seed text, double space included), so callers that match
                # on it keep working.
                exc.args = ('Bad input argument to theano function with name "%s"  at index '
                            '%d(0-based)%s' % (self.name, i, " (%s)" % var if sparse else ""),
                            ) + exc.args
                raise
            wire_values.extend(arrays)
        if self._monitor is not None:  # MonitorMode: its callbacks before the call itself
            self._monitor.run(wire_values)
        if self._run_prefix is None:
            self._run_prefix = _run_wire.request_prefix(self._client.session_id,
                                                        self.function_id)
        if config_values["shared_memory"]:
            outs = self._call_through_shared_memory(wire_values)
        else:
            outs = self._send(wire_values)
            for i, value in enumerate(outs):
                if type(value) is not np.ndarray:  # a device array's or shared memory's Value
                    outs[i] = _decode(self._client, value)
        if self._sparse_outputs:
            outs = sparse_io.regroup_outputs(self.outputs, outs)
        if self._prints:
            shown = outs[:len(outs) - len(self._prints)]
            for op, value in zip(self._prints, outs[len(shown):]):
                op.global_fn(op, value)
            outs = shown
        if self._return_list:
            return outs
        return outs[0]

    def _send(self, wire_values, output_slots=()):
        """Runs the function on `wire_values` (arrays, DeviceArrays, ShmValues); its outputs as
        _run_wire.read_reply gives them."""
        # The request written as bytes (tensord/_run_wire.py). Device arrays go as references and
        # shared-memory values as where they are, which only `args` carries: a call passing one
        # sends every value there.
        as_args = any(not isinstance(v, (np.ndarray, np.generic)) for v in wire_values)
        parts = _run_wire.request_parts(self._run_prefix, wire_values, as_args=as_args)
        parts += output_slots
        # Garbage device arrays ride along (the server frees them before running), taken last
        # so that nothing but joining the bytes comes between taking them and sending them.
        released = self._client.take_arrays_to_release()
        try:
            if released:
                parts += _run_wire.release_parts(released)
            outputs, self.last_run_ns = _run_wire.read_reply(self._client.run(b"".join(parts)))
        except TensordError as exc:
            if released and getattr(exc.code, "name", None) in UNSETTLED:
                self._client.release_arrays_again(released)  # the server may never have seen them
            augment_run_error(self, exc)
            raise
        except BaseException:  # MemoryError joining the request, KeyboardInterrupt while waiting
            if released:
                self._client.release_arrays_again(released)  # harmless if the server had them
            raise
        return outputs

    def _call_through_shared_memory(self, wire_values):
        """_send with big arrays in a shared-memory region (tensord/shared_memory.py), and the
        outputs as big as last time's written there; the decoded outputs."""
        pool = self._client.shared_memory_pool()
        for attempt in range(2):
            placed = pool.place(wire_values, self._output_nbytes)
            if placed is None:  # nothing big enough, or no room for a region on the server
                outs = [_decode(self._client, v) for v in self._send(wire_values)]
                break
            try:
                outs = [_decode(self._client, v, placed)
                        for v in self._send(placed.values, placed.slot_parts)]
            except NotFound as exc:
                lost = "no shared-memory region" in str(exc)
                placed.release(keep=not lost)
                if not lost or attempt == 1:
                    raise
                # A restarted server has none of the pool's regions, and the call neither ran
                # nor stored anything: once more, in regions registered now.
                pool.forget()
                continue
            except BaseException as exc:
                # A call the server may still be running could yet write its outputs into the
                # region: unless the server answered, it is never used again.
                settled = (isinstance(exc, TensordError)
                           and getattr(exc.code, "name", None) not in UNSETTLED)
                placed.release(keep=settled)
                raise
            placed.release()
            break
        self._output_nbytes = [o.nbytes if isinstance(o, np.ndarray) else None for o in outs]
        return outs

    def copy(self, share_memory=False, swap=None, delete_updates=False, name=None,
             profile=None):
        """Theano's Function.copy: the same function compiled again (a compile-cache hit when
        nothing changes). swap={old_shared: new_shared} makes the copy read and update
        new_shared instead (same type required); delete_updates drops the updates; name names
        the copy (default: this one's name + " copy"); profile: whether it is profiled (default:
        as this one). share_memory is accepted: intermediate values live on the server, never
        shared between functions."""
        spec = compute_pb2.FunctionSpec()
        spec.CopyFrom(self.spec)
        flat_swap = _flat_swap(swap) if swap else None
        if flat_swap:
            _swap_shared(spec, *flat_swap)
        if delete_updates:
            del spec.updates[:]
        spec.name = name if name is not None else (spec.name + " copy" if spec.name else "")
        if profile is not None:
            spec.profile = bool(profile)
        copy = Function(spec, self.inputs, self.outputs, self._return_list,
                        self.allow_input_downcast, self._ins)
        copy._prints = self._prints
        if self._monitor is not None:
            copy._monitor = self._monitor.copied(flat_swap[0] if flat_swap else None)
        if self._recipe is not None:
            copy._recipe = dict(self._recipe, copies=self._recipe.get("copies", []) + [
                dict(share_memory=share_memory, swap=swap, delete_updates=delete_updates,
                     name=name, profile=profile)])
        return copy

    def __reduce__(self):
        """Pickles the function as the arguments that made it (its graph, shared variables with
        their values, mode ...): unpickling compiles it again on the server this process is
        connected to, where it updates the unpickled shared variables."""
        if self._recipe is None:
            raise pickle.PicklingError("this tensord.Function was not made by tensord.function "
                                       "and cannot be pickled")
        return (_rebuild_function, (self._recipe,))

    def describe(self):
        """The server's view of the compiled function (optimized graph, debugprint, DOT)."""
        return self._client.call("DescribeFunction", compute_pb2.DescribeFunctionRequest(
            session_id=self._client.session_id, function_id=self.function_id))

    def release(self):
        """Frees the compiled function on the server; calling it afterwards raises NotFound."""
        self._client.call("ReleaseFunction", compute_pb2.ReleaseFunctionRequest(
            session_id=self._client.session_id, function_id=self.function_id))

    def __repr__(self):
        return "<tensord.Function %s id=%s>" % (self.name, self.function_id)


_MISSING = object()


def _rebuild_function(recipe):
    from tensord.compile.function import function
    recipe = dict(recipe)
    copies = recipe.pop("copies", [])
    fn = function(**recipe)
    for args in copies:
        fn = fn.copy(**args)
    return fn


def _flat_swap(swap):
    """(swap with each sparse shared variable's pair replaced by its four components' pairs,
    [(old variable as given, the shared variables it stands for)])."""
    from tensord.sparse.sharedvar import SparseSharedVariable
    flat, groups = {}, []
    for old, new in swap.items():
        if is_sparse_variable(old) or is_sparse_variable(new):
            if not all(isinstance(v, SparseSharedVariable) for v in (old, new)):
                raise TypeError("Function.copy(swap=...) maps shared variables to shared "
                                "variables, got %r: %r" % (old, new))
            if old.type != new.type:
                raise TypeError("Function.copy(swap=...): %s has type %s, its replacement %s "
                                "has %s" % (old, old.type, new, new.type))
            flat.update(zip(old.components, new.components))
            groups.append((old, list(old.components)))
        else:
            flat[old] = new
            groups.append((old, [old]))
    return flat, groups


def _swap_shared(spec, swap, groups=None):
    """Points every reference to each old shared variable in `spec` (inner graphs included) at
    its replacement. `groups` (from _flat_swap) says which variables were asked for: a sparse
    one is used when any of its components is."""
    from tensord.sharedvar import SharedVariable
    ids = {}
    for old, new in swap.items():
        if not isinstance(old, SharedVariable) or not isinstance(new, SharedVariable):
            raise TypeError("Function.copy(swap=...) maps shared variables to shared variables, "
                            "got %r: %r" % (old, new))
        if old.type != new.type:
            raise TypeError("Function.copy(swap=...): %s has type %s, its replacement %s has %s"
                            % (old, old.type, new, new.type))
        ids[old.shared_id] = new.shared_id
    found = set()

    def rewrite(graph):
        for var in graph.variables:
            if var.WhichOneof("source") == "shared" and var.shared.id in ids:
                found.add(var.shared.id)
                var.shared.id = ids[var.shared.id]
        for apply in graph.applies:
            for body in apply.bodies:
                rewrite(body)
    rewrite(spec.graph)
    groups = groups if groups is not None else [(old, [old]) for old in swap]
    missing = [str(old) for old, parts in groups
               if not any(p.shared_id in found for p in parts)]
    if missing:
        raise ValueError("Function.copy(swap=...): the function does not use %s"
                         % ", ".join(missing))


def _decode(client, value, placed=None):
    """An output as _run_wire.read_reply gives it: an array as it is, a Value decoded."""
    if isinstance(value, np.ndarray):
        return value
    kind = value.WhichOneof("kind")
    if kind == "ref":
        return DeviceArray(client, value.ref)
    if kind == "shm" and placed is not None:
        return placed.output(value.shm)
    raise ValueError("server returned an empty output value")
