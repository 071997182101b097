"""Loggers: one row per epoch to a CSV or JSON file, rewritten atomically each epoch."""
from __future__ import annotations

import csv
import io
import json
import os

from ..io.atomic import atomic_write
from .base import Callback


class _Logger(Callback):
    """One row per epoch (``epoch`` from 0, then the logs), the whole file rewritten atomically."""

    main_only = True

    def __init__(self, path, append: bool = False):
        self.path, self.append, self.rows = path, append, []

    def on_train_begin(self, logs=None):
        self.rows = self.read() if self.append and os.path.isfile(self.path) else []

    def on_epoch_end(self, epoch, logs=None):
        self.rows.append({"epoch": epoch, **(logs or {})})
        with atomic_write(self.path, "w") as file:
            file.write(self.format())


class CSVLogger(_Logger):
    """The epochs' logs as CSV (``append=True`` keeps the rows already in the file)."""

    def read(self) -> list:
        """The rows already in the file."""
        with open(self.path, newline="") as file:
            return list(csv.DictReader(file))

    def format(self) -> str:
        """The whole file's text."""
        columns = list(dict.fromkeys(key for row in self.rows for key in row))
        out = io.StringIO()
        writer = csv.DictWriter(out, columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(self.rows)
        return out.getvalue()


class JSONLogger(_Logger):
    """The epochs' logs as a JSON list of objects (``append=True`` keeps those already in the file)."""

    def read(self) -> list:
        """The entries already in the file."""
        with open(self.path) as file:
            return json.load(file)

    def format(self) -> str:
        """The whole file's text."""
        return json.dumps(self.rows, indent=1, default=float) + "\n"

