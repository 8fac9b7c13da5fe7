"""What common programs do: the risk facts and paths of one simple command.

Program knowledge is the registry (`tether/core/safety/registry/`): one spec
per program, data. What data cannot say is code: the detectors a spec names
(`detect="curl_sent_files"`, run here for every call of that program) and the
handlers still kept in this package, looked up by program name in `HANDLERS`.
A program the registry does not know gets the generic treatment from the
analyzer: every operand may be a path, which keeps the sandbox honest about
programs nobody described.
"""

from __future__ import annotations

from functools import cache

from tether.core.safety.programs import files, system
from tether.core.safety.programs.base import (
    Findings,
    Handler,
    is_block_device,
    is_secret_name,
)
from tether.core.safety.registry import (
    REGISTRY,
    detect_cloud,
    detect_code,
    detect_git,
    detect_network,
    detect_packages,
)

__all__ = [
    "HANDLERS",
    "Findings",
    "analyze_program",
    "detectors",
    "is_block_device",
    "is_secret_name",
]

HANDLERS: dict[str, Handler] = {**files.HANDLERS, **system.HANDLERS}
"""Program name (lower-case basename) -> handler."""


@cache
def detectors() -> dict[str, Handler]:
    """Detector name -> detector: every name a spec may use in `detect=`."""
    return {
        **detect_network.DETECTORS,
        **detect_cloud.DETECTORS,
        **detect_code.DETECTORS,
        **detect_git.DETECTORS,
        **detect_packages.DETECTORS,
    }


def analyze_program(findings: Findings) -> None:
    """Run the handler for the command's program, and the detectors its spec names."""
    program = findings.command.program
    if system.is_filesystem_maker(program):
        findings.handled_paths = True
        findings.fact("disk_destruction", f"{findings.command.text} (formats a file system)")
        return
    handler = HANDLERS.get(program)
    if handler is not None:
        handler(findings)
    spec = REGISTRY.get(program)
    if spec is not None and spec.detect:
        table = detectors()
        for name in spec.detect:
            table[name](findings)
