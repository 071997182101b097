"""The last words of an example stopped by Ctrl-C outside its training steps."""
from __future__ import annotations

import sys


def interrupted(during: str, path: str | None, saved, save=None, what: str = "the model is") -> int:
    """``save()`` (if given; a second Ctrl-C stops it, leaving any old file as it was), then one
    line on stderr saying what happened to ``path`` (``saved()`` tells whether it was written:
    "; the model is saved to PATH", with ``what`` the subject), and the exit status 130."""
    if save is not None:
        try:
            save()
        except KeyboardInterrupt:
            pass
    kept = "" if not path else (f"; {what} saved to {path}" if saved() else f"; nothing was saved to {path}")
    print(f"Interrupted {during}{kept}", file=sys.stderr, flush=True)
    return 130
