"""theano.scan_module: loops as graph nodes. scan() calls fn once to build the step graph;
the server compiles that body once and runs it for every step (docs/wire-protocol.md, scan)."""

from tensord.scan_module.scan import scan
from tensord.scan_module.scan_op import Scan
from tensord.scan_module.scan_utils import OrderedUpdates, until
from tensord.scan_module.scan_views import foldl, foldr, map, reduce  # noqa: A004

__all__ = ["scan", "map", "reduce", "foldl", "foldr", "until", "Scan", "OrderedUpdates"]
