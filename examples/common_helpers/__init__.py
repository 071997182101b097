"""What the examples' command lines share (mnist_helpers/ and charlm_helpers/ use it): argparse
types for numbers (numbers.py), the checks of output paths before training (checks.py),
matplotlib imported only when plotting (plotting.py), and rank 0 alone speaking under
mpiexec (ranks.py)."""
