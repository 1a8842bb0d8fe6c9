"""Fails when engine code names an op the registry does not declare: a grad rule, rewrite or
kernel table that names an op by a misspelt string ("tri_gama") would otherwise fail silently
(a comparison that never matches) or only when that rule runs. The registry's op names are read
from proto/tensord/v1/op_schema.json (generated from it; its own test keeps it current).

It checks the string literals in the positions where the engine names ops: NodeBuilder's
Apply/ApplyMulti and the Call/Inc helpers, comparisons with an Apply's `op`, ProducedBy,
the grad rules' index counterparts, kernel tables' Add and registry lookups. (Rule sets check
their keys against the registry when they are built; kernel tables abort on unknown names;
grad and shape rules are attached by the declarations themselves.)

Usage: check_op_names.py [REPO_ROOT]"""
import json
import os
import re
import sys

# Each pattern's group 1 is an op name.
PATTERNS = [
    r'\bApply\(\s*"([a-z_0-9]+)"',
    r'\bApplyMulti\(\s*"([a-z_0-9]+)"',
    r'\b(?:Call|Inc)\(\s*b\s*,\s*"([a-z_0-9]+)"',
    r'\bop\s*[!=]=\s*"([a-z_0-9]+)"',
    r'"([a-z_0-9]+)"\s*[!=]=\s*\w+(?:->|\.)op\b',
    r'\bProducedBy\([^;()]*(?:\([^()]*\))?[^;()]*,\s*"([a-z_0-9]+)"\)',
    r'\bIndex(?:Read|Inc)Grad\(\s*"([a-z_0-9]+)"',
    r'\bAdvancedDef\("[a-z_0-9]+",\s*\w+,\s*"([a-z_0-9]+)"',
    r'\bk\.Add\(\s*"([a-z_0-9]+)"',
    r'Registry::Global\(\)\.Find\(\s*"([a-z_0-9]+)"',
]


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "..")
    with open(os.path.join(root, "proto", "tensord", "v1", "op_schema.json")) as f:
        known = {op["name"] for op in json.load(f)["ops"]}
    errors, seen = [], 0  # seen: literals checked
    for top in ("engine", "server"):
        for dirpath, _, files in os.walk(os.path.join(root, top)):
            for name in files:
                # Tests name unknown ops on purpose (to see them refused).
                if not name.endswith((".cc", ".h")) or name.endswith("_test.cc"):
                    continue
                path = os.path.join(dirpath, name)
                with open(path) as f:
                    text = f.read()
                for pattern in PATTERNS:
                    for m in re.finditer(pattern, text):
                        seen += 1
                        if m.group(1) not in known:
                            line = text.count("\n", 0, m.start()) + 1
                            errors.append("%s:%d: names op '%s', which the registry does not "
                                          "declare" % (os.path.relpath(path, root), line,
                                                       m.group(1)))
    for e in sorted(errors):
        print(e)
    if seen < 200:  # the patterns stopped matching the code's idioms: the check would be empty
        print("only %d op-name literals found; update PATTERNS" % seen)
        return 1
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
