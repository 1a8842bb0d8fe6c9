import pathlib
import sys

# harness.py sits beside the tests; pytest's rootdir-relative imports do not reach it.
sys.path.insert(0, str(pathlib.Path(__file__).parent))
