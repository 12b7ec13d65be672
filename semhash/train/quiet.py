"""Importing TensorFlow without its start-up log lines (standard library only; TensorFlow is
imported only when :func:`import_tensorflow_quietly` is called)."""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import tempfile
from collections.abc import Iterator


def import_tensorflow_quietly() -> None:
    """Import TensorFlow and Keras without the log lines TensorFlow prints while it loads.

    ``TF_CPP_MIN_LOG_LEVEL=2`` (unless set) hides TensorFlow's C++ info and warnings, but some
    notices (oneDNN, CPU features, CUDA plugins) are written by absl straight to file
    descriptor 2 before logging is set up; they are caught in a temporary file during the import
    and shown only when the import fails. TensorFlow's Python loggers keep errors only. Set
    ``TF_CPP_MIN_LOG_LEVEL`` to 0 or 1 to see everything.
    """
    if os.environ.get("TF_CPP_MIN_LOG_LEVEL") in ("0", "1"):
        import keras  # TensorFlow on demand; the user asked for its messages
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    with _stderr_caught():
        import keras  # noqa: F401 - TensorFlow on demand, with fd 2 caught
        import tensorflow  # noqa: F401 - as above
    for name in ("tensorflow", "absl", "keras"):
        logging.getLogger(name).setLevel(logging.ERROR)


@contextlib.contextmanager
def _stderr_caught() -> Iterator[None]:
    """File descriptor 2 goes to a temporary file; its text is written back if the block raises."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as caught:
        os.dup2(caught.fileno(), 2)
        try:
            yield
        except BaseException:
            os.dup2(saved, 2)
            caught.seek(0)
            os.write(2, caught.read())
            raise
        finally:
            os.dup2(saved, 2)
            os.close(saved)
