"""What common programs do: the risk facts and paths of one simple command.

One small handler per family of programs, looked up by program name in
`HANDLERS`. A handler reads the command's arguments with the program's option
syntax, records facts and names the paths it uses. Programs described by the
registry (`tether/core/safety/registry/`) need no handler: their specs and
detectors say the same as data. A program with neither gets the generic
treatment from the analyzer: every operand may be a path, which keeps the
sandbox honest about programs nobody described.
"""

from __future__ import annotations

from tether.core.safety.programs import code, git, network, packages
from tether.core.safety.programs.base import (
    Findings,
    Handler,
    is_block_device,
    is_secret_name,
)
from tether.core.safety.programs.code import DECODERS, code_facts
from tether.core.safety.programs.network import NETWORK_PROGRAMS

__all__ = [
    "DECODERS",
    "HANDLERS",
    "NETWORK_PROGRAMS",
    "Findings",
    "analyze_program",
    "code_facts",
    "is_block_device",
    "is_secret_name",
]

HANDLERS: dict[str, Handler] = {
    **git.HANDLERS,
    **network.HANDLERS,
    **packages.HANDLERS,
    **code.HANDLERS,
}
"""Program name (lower-case basename) -> handler."""


def analyze_program(findings: Findings) -> None:
    """Run the handler for the command's program, if there is one."""
    handler = HANDLERS.get(findings.command.program)
    if handler is not None:
        handler(findings)
