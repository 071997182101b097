"""What the examples' command lines share (mnist_helpers/ and charlm_helpers/ use it): argparse
types for numbers (numbers.py), the checks of output paths before training (checks.py),
and matplotlib imported only when plotting (plotting.py)."""
