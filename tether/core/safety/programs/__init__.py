"""What common programs do: the risk facts and paths of one simple command.

Program knowledge is the registry (`tether/core/safety/registry/`): one spec
per program, data. What data cannot say is code, in two kinds of detectors a
spec names: whole-call detectors (`scan="curl_sent_files"`, `registry/detect_*.py`)
that this program step runs on every call of the program, and detectors the
vetting walk runs with the parsed call (`detect="delete_targets"`,
`registry/detectors/`). A program the registry does not know gets the generic
treatment from the analyzer: every operand may be a path, which keeps the
sandbox honest about programs nobody described.
"""

from __future__ import annotations

from functools import cache

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
    lookup,
)

__all__ = [
    "SCANNED_PROGRAMS",
    "Findings",
    "analyze_program",
    "detectors",
    "is_block_device",
    "is_secret_name",
    "scanners",
]


@cache
def detectors() -> dict[str, Handler]:
    """Detector name -> whole-call detector: every name a spec may use in `scan=`."""
    return {
        **detect_network.DETECTORS,
        **detect_cloud.DETECTORS,
        **detect_code.DETECTORS,
        **detect_git.DETECTORS,
        **detect_packages.DETECTORS,
    }


SCANNED_PROGRAMS: frozenset[str] = frozenset(
    # `scan` is set when a spec is written: reading it compiles no spec (`REGISTRY.items()` would).
    name
    for name, spec in REGISTRY.unrealised().items()
    if spec.scan
)
"""The programs whose spec names whole-call detectors: `analyze_program` runs none for others."""


_SCANS: dict[str, tuple[Handler, ...]] = {}
"""Program -> its spec's whole-call detectors, filled in as each scanned program is first
met: compiled from the spec's static `scan`, never from a call, and bounded by
`SCANNED_PROGRAMS`."""


def scanners(program: str) -> tuple[Handler, ...]:
    """The whole-call detectors `analyze_program` runs for `program`, in order: those its
    spec names in `scan` (none for a program without a spec)."""
    spec = lookup(program)
    if spec is None or not spec.scan:
        return ()
    table = detectors()
    return tuple(table[name] for name in spec.scan)


def analyze_program(findings: Findings) -> None:
    """Run the whole-call detectors the program's spec names."""
    program = findings.command.program
    handlers = _SCANS.get(program)
    if handlers is None:
        handlers = scanners(program)
        if program in SCANNED_PROGRAMS:
            _SCANS[program] = handlers
    for handler in handlers:
        handler(findings)
