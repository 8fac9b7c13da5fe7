"""Start-up with the cyclic garbage collector paused: what it builds lives as long as Tether."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["collector_paused"]


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause the cyclic collector while start-up builds; freeze what it built after.

    Importing the pipeline, reading the policies and running their examples
    make some 100,000 objects that live as long as the process, and next to no
    garbage (a few hundred objects). The collector would walk them over a
    hundred times meanwhile, about half of building the pipeline. Afterwards
    they are frozen out of its work (`gc.freeze`), so a long session's (or a
    long batch's) full collections skip them. A collector that was off stays off.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.freeze()
            gc.enable()
