"""The helpers of examples/mnist.py: its recipes and command line (presets.py, with the
checks of every path in checks.py), its report and files (report.py), plots (plots.py),
random shifts of the training images (augment.py) and ONNX export with the input scaling
(export.py)."""
