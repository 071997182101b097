"""make_dot: the graph behind some tensors as a graphviz.Digraph (DOT text, SVG, PNG, PDF).

One node per tensor and one per op, each drawn once; edges run in data-flow direction
(input tensor -> op -> output tensor), labelled with the argument position when an op
has several inputs. The walk is a breadth-first search from the roots with an explicit
queue (no recursion), and node ids follow the visit order, so the same graph always
gives the same DOT text. Labels and colours are in ``viz_style.py``.
"""
from __future__ import annotations

from collections import deque

from . import viz_style as style
from .grad_mode import enable_grad
from .tensor import Tensor

try:
    import graphviz
except ImportError as error:  # pragma: no cover - graphviz is a dependency of dagrad
    raise ImportError("make_dot needs the graphviz Python package: pip install graphviz") from error

MISSING_DOT = (
    "rendering needs the Graphviz 'dot' program, which was not found on PATH. Install Graphviz "
    "(apt-get install graphviz, brew install graphviz, conda install graphviz, or "
    "https://graphviz.org/download/). Without it, .source still gives the DOT text.")


class GraphvizNotFoundError(RuntimeError):
    """Rendering was asked for but Graphviz's ``dot`` program is not installed."""


class Graph(graphviz.Digraph):
    """A graphviz.Digraph whose render, pipe (Jupyter's display) and unflatten say how to
    install Graphviz when its programs are missing."""

    def render(self, *args, **kwargs):
        return _explained(super().render, args, kwargs)

    def pipe(self, *args, **kwargs):
        return _explained(super().pipe, args, kwargs)

    def unflatten(self, *args, **kwargs):
        return _explained(super().unflatten, args, kwargs)


def _explained(method, args, kwargs):
    try:
        return method(*args, **kwargs)
    except graphviz.ExecutableNotFound as error:
        raise GraphvizNotFoundError(MISSING_DOT) from error


class _Node:
    """A tensor node (``handles``: the Tensor objects seen for it; ``fn``: the op that made
    it, None for a leaf) or an op node (``fn``: the op)."""

    __slots__ = ("kind", "fn", "handles", "consumers", "id")

    def __init__(self, kind: str, fn):
        self.kind, self.fn = kind, fn
        self.handles, self.consumers = {}, []


def _walk(roots):
    """Breadth-first from the roots: the nodes in visit order, the edges, the root nodes.

    An op's output is identified by its node (several Tensors may wrap it), a leaf by its
    Tensor object.
    """
    nodes, edges, by_owner, queue = [], [], {}, deque()

    def tensor_node(t) -> int:
        owner = id(t.op if t.op is not None else t)
        index = by_owner.get(owner)
        if index is None:
            index = by_owner[owner] = len(nodes)
            nodes.append(_Node("tensor", t.op))
            queue.append(index)
        nodes[index].handles[id(t)] = t
        return index

    root_indices = [tensor_node(t) for t in roots]
    while queue:
        index = queue.popleft()
        node = nodes[index]
        if node.kind == "tensor" and node.fn is not None:
            nodes.append(_Node("op", node.fn))
            queue.append(len(nodes) - 1)
            edges.append((len(nodes) - 1, index, None))
        elif node.kind == "op":
            several = len(node.fn.inputs) > 1
            for position, t in enumerate(node.fn.inputs):
                source = tensor_node(t)
                nodes[source].consumers.append(node.fn)
                edges.append((source, index, str(position) if several else None))
    return nodes, edges, set(root_indices)


def _scope(fn) -> tuple:
    return getattr(fn, "scope", None) or ()


def _common_prefix(scopes) -> tuple:
    prefix = scopes[0]
    for scope in scopes[1:]:
        n = 0
        while n < min(len(prefix), len(scope)) and prefix[n] is scope[n]:
            n += 1
        prefix = prefix[:n]
    return prefix


class _Drawing:
    """The facts make_dot draws, gathered from the walk: names, roles, clusters."""

    def __init__(self, nodes, roots, params):
        self.nodes, self.roots = nodes, roots
        self.module_names, self.given_names, self.module_tensor_names = {}, {}, {}
        for name, t in params.items():
            self.given_names.setdefault(id(t.op if t.op is not None else t), name)
        scopes = dict.fromkeys(_scope(n.fn) for n in nodes if n.kind == "op")
        for top in dict.fromkeys(scope[0] for scope in scopes if scope):
            self._name_tree(top)
        for module in dict.fromkeys(module for scope in scopes for module in scope):
            prefix = self.module_names.get(id(module))
            for attribute, value in getattr(module, "__dict__", {}).items():
                if isinstance(value, Tensor):
                    name = f"{prefix}.{attribute}" if prefix else attribute
                    self.module_tensor_names.setdefault(id(value), name)

    def _name_tree(self, top) -> None:
        """Names from an outermost module: named_modules() and named_parameters() (nn.Module's)."""
        for name, module in top.named_modules() if hasattr(top, "named_modules") else ():
            self.module_names.setdefault(id(module), name)
        for name, p in top.named_parameters() if hasattr(top, "named_parameters") else ():
            self.module_tensor_names.setdefault(id(p), name)

    def name(self, node) -> str | None:
        """From params, else the Tensor's own name, else the module attribute that holds it."""
        key = id(node.fn) if node.fn is not None else next(iter(node.handles))
        return (self.given_names.get(key) or next((t.name for t in node.handles.values() if t.name), None)
                or self.module_tensor_names.get(key))

    def trainable(self, index: int) -> bool:
        """A leaf that requires grad: a parameter."""
        node = self.nodes[index]
        return node.fn is None and any(t.requires_grad for t in node.handles.values())

    def role(self, index: int) -> str:
        if index in self.roots:
            return "output"
        if self.nodes[index].fn is not None:
            return "intermediate"
        return "parameter" if self.trainable(index) else "input"

    def scope(self, index: int) -> tuple:
        """The modules a node is drawn inside: an op's scope, its output's, and for a
        parameter the modules shared by all the ops that use it."""
        node = self.nodes[index]
        if node.fn is not None:
            return _scope(node.fn)
        if node.consumers and self.trainable(index):
            return _common_prefix([_scope(fn) for fn in node.consumers])
        return ()

    def cluster_label(self, module) -> str:
        name = self.module_names.get(id(module))
        return f"{name}: {type(module).__name__}" if name else type(module).__name__


def _flatten_roots(roots) -> list:
    flat = []
    for r in roots:
        flat.extend(r if isinstance(r, (list, tuple)) else [r])
    if not flat:
        raise TypeError("make_dot: give at least one Tensor to draw the graph behind")
    for r in flat:
        if not isinstance(r, Tensor):
            raise TypeError(f"make_dot: roots must be Tensors, got {type(r).__name__}")
    return flat


def _check_params(params) -> dict:
    params = dict(params or {})
    for name, t in params.items():
        if not isinstance(t, Tensor):
            raise TypeError(f"make_dot: params[{name!r}] is a {type(t).__name__}, not a Tensor")
    return params


def make_dot(*roots, params=None, show_grad: bool = False, show_values: bool = False,
             max_nodes: int | None = None, rankdir: str = "TB", legend: bool = True) -> Graph:
    """Draw the graph behind ``roots`` as a graphviz.Digraph (``.source`` is the DOT text).

    Tensor nodes show a name (``Tensor(name=...)``, ``params``, or the parameter names of
    the nn modules that built the graph), shape and dtype; op nodes the op and its
    attributes, e.g. ``Sum(axis=1)``. Colours mark parameters (leaves that require grad),
    inputs and constants, the outputs, and, in red, tensors holding NaN or Inf. Ops run
    inside nn modules are grouped in one box per module.

    params:      name -> Tensor, for labels (e.g. ``dict(model.named_parameters())``).
    show_grad:   after backward: each gradient's shape, norm, min and max; a parameter
                 without a gradient is flagged.
    show_values: small tensors show their values, larger ones mean/std/min/max.
    max_nodes:   draw only the nodes nearest the roots, and one "N more nodes" box.
    rankdir:     "TB" (top to bottom), "LR", "BT" or "RL".
    legend:      draw the colour legend.
    """
    roots = _flatten_roots(roots)
    if rankdir not in ("TB", "LR", "BT", "RL"):
        raise ValueError(f"make_dot: rankdir must be 'TB', 'LR', 'BT' or 'RL', got {rankdir!r}")
    if max_nodes is not None and (not isinstance(max_nodes, int) or max_nodes < 1):
        raise ValueError(f"make_dot: max_nodes must be a positive int or None, got {max_nodes!r}")
    nodes, edges, root_indices = _walk(roots)
    kept = len(nodes) if max_nodes is None else min(max_nodes, len(nodes))
    drawing = _Drawing(nodes[:kept], root_indices, _check_params(params))
    graph = Graph("dagrad", graph_attr=dict(style.GRAPH_ATTR, rankdir=rankdir),
                  node_attr=style.NODE_ATTR, edge_attr=style.EDGE_ATTR)
    roles, clusters = set(), {(): []}
    counters = {"tensor": 0, "op": 0}
    for index, node in enumerate(nodes[:kept]):
        prefix = "t" if node.kind == "tensor" else "op"
        node.id = f"{prefix}{counters[node.kind]}"
        counters[node.kind] += 1
        if node.kind == "tensor":
            role = drawing.role(index)
            label, attrs, bad = style.tensor_node(list(node.handles.values()), drawing.name(node), role,
                                                  drawing.trainable(index), show_grad, show_values)
            roles.update([role, "nonfinite"] if bad else [role])
        else:
            label, attrs = graphviz.nohtml(style.op_label(node.fn)), style.op_attrs()
            roles.add("op")
        scope = drawing.scope(index)
        for depth in range(len(scope)):
            clusters.setdefault(scope[:depth + 1], [])
        clusters[scope].append((node.id, label, attrs))
    _emit_clusters(graph, drawing, clusters)
    _emit_edges(graph, nodes, edges, kept)
    if legend:
        graph.node("legend", style.legend_label(roles), shape="plaintext", margin="0")
    return graph


def _emit_clusters(graph, drawing, clusters) -> None:
    """Nodes outside any module first, then one nested ``cluster_k`` per module scope."""
    children = {}
    for number, scope in enumerate(s for s in clusters if s):
        children.setdefault(scope[:-1], []).append((number, scope))

    def emit(target, scope):
        for node_id, label, attrs in clusters[scope]:
            target.node(node_id, label, **attrs)
        for number, child in children.get(scope, []):
            with target.subgraph(name=f"cluster_{number}") as sub:
                sub.attr(label=drawing.cluster_label(child[-1]), style="rounded,dashed", color="gray40",
                         fontcolor="gray25")
                emit(sub, child)

    emit(graph, ())


def _emit_edges(graph, nodes, edges, kept: int) -> None:
    """Edges between drawn nodes; edges to or from hidden nodes go to one placeholder."""
    hidden = set()
    for source, target, label in edges:
        if source < kept and target < kept:
            graph.edge(nodes[source].id, nodes[target].id, label=label)
        elif source < kept or target < kept:
            pair = ("more", nodes[target].id) if target < kept else (nodes[source].id, "more")
            if pair not in hidden:
                hidden.add(pair)
                graph.edge(*pair, style="dashed")
    if kept < len(nodes):
        more = len(nodes) - kept
        graph.node("more", f"{more} more node{'s' if more > 1 else ''}", shape="box", style="dashed")


def nn_graph(model, *inputs, params=None, **options) -> Graph:
    """Draw one forward pass of an nn ``model`` on ``inputs`` (arrays or Tensors).

    Parameters are labelled with their dotted names (``0.weight``), unnamed inputs
    ``input`` (``input0``, ``input1``... for several), and each module's ops are grouped
    in a box (``0: Linear``). Other options are make_dot's.
    """
    tensors = [x if isinstance(x, Tensor) else Tensor(x) for x in inputs]
    names = dict(params or {})
    for i, x in enumerate(tensors):
        if not x.name:
            names.setdefault("input" if len(tensors) == 1 else f"input{i}", x)
    for name, p in model.named_parameters():
        names.setdefault(name, p)
    with enable_grad():
        out = model(*tensors)
    return make_dot(*(out if isinstance(out, (list, tuple)) else [out]), params=names, **options)
