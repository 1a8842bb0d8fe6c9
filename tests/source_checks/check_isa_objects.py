"""Files built for one instruction set (the *_avx2.cc and *_avx512.cc of the engine, compiled
with -mavx2 or -mavx512f) must define no weak or unique symbol: an inline function or template
they instantiate (a std::string member, an Eigen kernel outside its renamed namespace) could be
the copy the linker keeps for the whole program, and then run on a CPU without those
instructions. Nor may they have dynamic initializers, which run at load on every CPU. Their own
functions are called only after the CPU was checked.

Usage: check_isa_objects.py OBJECT... (every object of the engine; the others are ignored)."""

import re
import subprocess
import sys

ISA_SOURCE = re.compile(r"_(avx2|avx512)\.cc\.o$")
# The personality routine's reference is one per object by design. A symbol whose (mangled)
# name involves the namespace gemm_eigen_avx512.cc renames Eigen to is that file's alone.
ALLOWED = re.compile(r"^DW\.ref\.__gxx_personality_v0$|TensordEigenAvx512")
# A C++ dynamic initializer; GCC's sanitizers register a file's globals from one of priority 99
# (calls into their runtime only), which sanitizer builds may have.
INITIALIZER = re.compile(r"^_GLOBAL__sub_I_(?!00099_)")


def shared_symbols(obj):
    out = subprocess.run(["nm", "--defined-only", obj], check=True,
                         capture_output=True, text=True).stdout
    for line in out.splitlines():
        parts = line.split(" ", 2)
        if len(parts) != 3:
            continue
        if parts[1] in ("W", "w", "V", "v", "u") and not ALLOWED.search(parts[2]):
            yield parts[2]
        elif INITIALIZER.match(parts[2]):
            yield parts[2] + " (a dynamic initializer)"


def main(objects):
    checked, bad = 0, []
    for obj in objects:
        if ISA_SOURCE.search(obj):
            checked += 1
            bad += ["%s: %s" % (obj.rsplit("/", 1)[-1], s) for s in shared_symbols(obj)]
    if checked == 0:
        sys.exit("no *_avx2.cc.o or *_avx512.cc.o among the objects given")
    if bad:
        sys.exit("instruction-set objects define shared symbols or initializers:\n  " + "\n  ".join(bad))
    print("%d instruction-set objects define no shared symbol" % checked)


if __name__ == "__main__":
    main(sys.argv[1:])
