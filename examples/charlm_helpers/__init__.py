"""The helpers of examples/charlm.py: its recipes and command line (presets.py, with the checks
of every path in checks.py), its report and Ctrl-C handling (report.py), its model files with
the vocabulary (checkpoint.py), text generation (sampling.py) and the loss curves (plots.py)."""
