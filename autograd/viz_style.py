"""How make_dot draws things: colours by role, tensor and op labels, the legend.

Everything here turns one node's facts into DOT attributes; the walk over the graph
lives in ``viz.py``. Tensor labels are Graphviz HTML-like labels (bold name, rules
between sections); op labels are plain text such as ``Sum(axis=1)``.
"""
from __future__ import annotations

import functools
import html
import inspect

import numpy as np

# role -> (fill colour, legend text); the order is the legend's order
ROLES = {
    "parameter": ("#a8d5ff", "parameter (requires grad)"),
    "input": ("#e3e3e3", "input / constant"),
    "intermediate": ("white", "intermediate"),
    "output": ("#b5e6a5", "output"),
    "op": ("#ffe8a3", "op"),
    "nonfinite": ("#ff7070", "holds NaN or Inf"),
}
ALARM = "#8b0000"   # text that reports NaN/Inf or a missing gradient
ZERO = "darkorange"  # border and text for a gradient that is all zero
SMALL = 16          # tensors of at most this many elements show their values
_ATTR_ITEMS = 6     # longer tuples and arrays in op attributes are summarised
_ATTR_CHARS = 40    # and so are longer reprs

GRAPH_ATTR = {"fontname": "Helvetica", "fontsize": "10"}
NODE_ATTR = {"fontname": "Helvetica", "fontsize": "10"}
EDGE_ATTR = {"fontname": "Helvetica", "fontsize": "9", "arrowsize": "0.7"}


def _num(value) -> str:
    return f"{float(value):.4g}"


# ---- op labels ----

def _format_array(value: np.ndarray) -> str:
    if value.dtype == bool:
        return f"mask{value.shape}: {int(value.sum())} true"
    if value.ndim <= 1 and value.size <= _ATTR_ITEMS:
        return "[" + ", ".join(_format_value(v) for v in value.tolist()) + "]"
    return f"{value.dtype} array{value.shape}"


def _format_value(value) -> str:
    """An attribute value, short: big arrays, tuples and reprs are summarised."""
    if isinstance(value, (bool, np.bool_, int, np.integer)):
        return str(value)
    if isinstance(value, (float, np.floating)):
        return _num(value)
    if isinstance(value, np.ndarray):
        return _format_array(value)
    if isinstance(value, (tuple, list)):
        if len(value) > _ATTR_ITEMS:
            return f"({len(value)} items)"
        inner = ", ".join(_format_value(v) for v in value)
        return f"[{inner}]" if isinstance(value, list) else f"({inner}{',' if len(value) == 1 else ''})"
    if isinstance(value, slice):
        parts = ["" if p is None else str(p) for p in (value.start, value.stop, value.step)]
        return ":".join(parts[:2] if value.step is None else parts)
    if value is Ellipsis:
        return "..."
    text = repr(value)
    return text if len(text) <= _ATTR_CHARS else type(value).__name__


def _format_index(index) -> str:
    items = index if isinstance(index, tuple) else (index,)
    return "[" + ", ".join(_format_value(i) for i in items) + "]"


@functools.lru_cache(maxsize=None)
def _defaults(cls) -> dict:
    """The constructor's default values of an op class (attributes equal to them are not shown)."""
    try:
        parameters = inspect.signature(cls.__init__).parameters.values()
    except (TypeError, ValueError):
        return {}
    return {p.name: p.default for p in parameters if p.default is not inspect.Parameter.empty}


def _is_default(value, default) -> bool:
    if value is default:
        return True
    simple = (bool, int, float, str, np.bool_, np.integer, np.floating)
    return isinstance(value, simple) and isinstance(default, simple) and value == default


def op_label(fn) -> str:
    """``Sum(axis=1)``, ``Repeat(3, axis=0)``, ``GetItem([:, 0])``: the class name and the
    attributes that differ from the constructor's defaults (None and False are left out
    too); the first one is positional unless it is an axis. An op with a ``describe()``
    method gives its own text instead (``Conv2d(5x5, stride=2, padding=1)``)."""
    describe = getattr(fn, "describe", None)
    if describe is not None:
        return describe().replace("\\", "\\\\")
    defaults = _defaults(type(fn))
    parts = []
    for key, value in fn.attributes().items():
        if value is None or value is False or (key in defaults and _is_default(value, defaults[key])):
            continue
        if key in ("axis", "axes") and isinstance(value, tuple) and len(value) == 1:
            value = value[0]
        text = _format_index(value) if key == "index" else _format_value(value)
        parts.append(text if not parts and key not in ("axis", "axes") else f"{key}={text}")
    name = type(fn).__name__
    label = f"{name}({', '.join(parts)})" if parts else name
    return label.replace("\\", "\\\\")


# ---- tensor labels ----

def nonfinite_counts(array) -> str:
    """'' for a finite array, else e.g. '2 nan, 1 inf'."""
    if array is None or array.dtype.kind not in "fc" or np.isfinite(array).all():
        return ""
    nan = int(np.isnan(array).sum())
    inf = int(array.size - nan - np.isfinite(array).sum())
    return ", ".join(f"{n} {kind}" for n, kind in ((nan, "nan"), (inf, "inf")) if n)


def _values(array: np.ndarray) -> list:
    """The values of a small array, one text line per printed line."""
    text = np.array2string(array, precision=4, separator=", ", suppress_small=False, max_line_width=48)
    return text.splitlines()


def _stats(array: np.ndarray, gradient: bool) -> list:
    finite = array[np.isfinite(array)] if array.dtype.kind == "f" else array
    if finite.size == 0:
        return ["no finite values"]
    low, high = _num(finite.min()), _num(finite.max())
    if gradient:
        return [f"min {low}  max {high}"]
    return [f"mean {_num(finite.mean())}  std {_num(finite.std())}", f"min {low}  max {high}"]


def data_lines(array: np.ndarray) -> list:
    """show_values: small tensors list their values, large ones mean/std/min/max."""
    if array.size <= 1:
        return ["data " + (_num(array.reshape(())) if array.size else "empty")]
    return _values(array) if array.size <= SMALL else _stats(array, gradient=False)


def grad_lines(grad: np.ndarray, show_values: bool) -> list:
    """show_grad: the gradient's shape and norm, then its min/max (or values when small)."""
    if grad.size <= 1:
        return ["grad " + (_num(grad.reshape(())) if grad.size else f"{grad.shape} empty")]
    norm = _num(np.sqrt(np.sum(np.square(grad, dtype=np.float64))))
    lines = [f"grad {grad.shape}  norm {norm}"]
    if show_values and grad.size <= SMALL:
        return lines + _values(grad)
    return lines + _stats(grad, gradient=True)


def _cell(lines, color: str | None = None, bold: bool = False) -> str:
    body = '<BR ALIGN="LEFT"/>'.join(html.escape(line, quote=False) for line in lines)
    if bold:
        body = f"<B>{body}</B>"
    if color:
        body = f'<FONT COLOR="{color}">{body}</FONT>'
    align = ' ALIGN="LEFT" BALIGN="LEFT"' if len(lines) > 1 else ""
    return f"<TR><TD{align}>{body}</TD></TR>"


def tensor_label(sections) -> str:
    """An HTML-like label from ``sections``: lists of (lines, colour, bold), with rules between."""
    rows = ["".join(_cell(*cell) for cell in section) for section in sections if section]
    return f'<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="1">{"<HR/>".join(rows)}</TABLE>>'


def tensor_node(handles, name, role: str, trainable: bool, show_grad: bool, show_values: bool):
    """The label and attributes of one tensor node (``handles``: the Tensors that wrap it),
    and whether it holds NaN or Inf (in its data or its gradient)."""
    data = handles[0].data
    header = [([name], None, True)] if name else []
    header.append(([f"{data.shape} {data.dtype}"], None, False))
    bad = nonfinite_counts(data)
    if bad:
        header.append(([bad + " in data"], ALARM, True))
    sections = [header]
    if show_values:
        sections.append([(data_lines(data), None, False)])
    flag = None
    grad = next((t.grad for t in handles if t.grad is not None), None) if show_grad else None
    if grad is not None:
        grad = np.asarray(getattr(grad, "data", grad))
        bad_grad = nonfinite_counts(grad)
        section = [(grad_lines(grad, show_values), None, False)]
        if bad_grad:
            section.append(([bad_grad + " in grad"], ALARM, True))
            bad = bad or bad_grad
        elif grad.size and not grad.any():
            section.append((["gradient is all zero"], ZERO, True))
            flag = ZERO
        sections.append(section)
    elif show_grad and trainable:
        sections.append([(["no grad"], ALARM, True)])
        flag = "red"
    return tensor_label(sections), tensor_attrs(role, bool(bad), flag), bool(bad)


def tensor_attrs(role: str, nonfinite: bool, flag: str | None) -> dict:
    """Node attributes: fill by role, red when NaN/Inf, a coloured border for a gradient flag."""
    fill = ROLES["nonfinite" if nonfinite else role][0]
    attrs = {"shape": "box", "style": "filled,rounded", "fillcolor": fill, "margin": "0.08,0.04"}
    if nonfinite:
        attrs.update(color="red", penwidth="2")
    elif flag:
        attrs.update(color=flag, penwidth="2")
    return attrs


def op_attrs() -> dict:
    return {"shape": "ellipse", "style": "filled", "fillcolor": ROLES["op"][0], "margin": "0.05,0.02"}


def legend_label(roles) -> str:
    """The legend: one coloured row per role drawn in this graph."""
    rows = "".join(f'<TR><TD BGCOLOR="{ROLES[r][0]}">{ROLES[r][1]}</TD></TR>' for r in ROLES if r in roles)
    return ('<<TABLE BORDER="0" CELLBORDER="1" CELLSPACING="0" CELLPADDING="3">'
            f"<TR><TD><B>legend</B></TD></TR>{rows}</TABLE>>")
