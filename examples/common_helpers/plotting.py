"""matplotlib, imported when a plot is drawn (never at import time), with a clear message when absent."""
from __future__ import annotations

NEEDS_MATPLOTLIB = "--plots needs matplotlib: pip install matplotlib (or pip install -e '.[plot]')"


def pyplot():
    """matplotlib.pyplot on the Agg backend (files only, no window); SystemExit saying how to install it."""
    try:
        import matplotlib
    except ImportError:
        raise SystemExit(NEEDS_MATPLOTLIB) from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt
