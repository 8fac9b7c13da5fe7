"""Detectors of the package managers: what depends on values, not on the spec.

- `package_paths`: the files a call reads or writes (`-r requirements.txt`,
  `--target DIR`); package names are not paths. A bare `yarn` installs.
- `registry_tokens`: `npm token list`, `npm config get //registry/:_authToken`
  print registry credentials;
- `runner_options`: `npm test --script-shell=./x`, `--node-options=--require=…`:
  scripts run through a program or with code of the caller's choice. These
  options stay unlisted in the spec (unvetted); the fact says what they do.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING

from tether.core.safety.registry.spec import words

if TYPE_CHECKING:
    from tether.core.safety.facts import PathAccess
    from tether.core.safety.programs.base import Findings

__all__ = ["DETECTORS"]

Detector = Callable[["Findings"], None]

_READS = frozenset({"-r", "--requirement", "-c", "--constraint", "-e", "--editable"})
_WRITES = frozenset({"--target", "-t", "--prefix", "--root"})
_AUTH_KEY = re.compile(r"auth|token|password|_pass", re.IGNORECASE)
_NODE_MANAGERS = frozenset({"npm", "pnpm", "yarn", "bun"})


def package_paths(f: Findings) -> None:
    """Requirement files read, install targets written; a bare `yarn` installs."""
    c = f.command
    f.handled_paths = True
    for index, arg in enumerate(c.args):
        name, equals, value = arg.partition("=")
        if name in _READS | _WRITES:
            access: PathAccess = "read" if name in _READS else "write"
            if equals:
                f.text_path(value, access, dynamic=index in c.dynamic_args)
            else:
                f.arg(index + 1, access)
    if c.program == "yarn" and not [a for a in c.args if not a.startswith("-")]:
        f.fact("package_install", f"{c.text} (installs dependencies)")
        f.fact("network")


def registry_tokens(f: Findings) -> None:
    """`npm token …`, `npm config get …authToken`: registry credentials printed."""
    c = f.command
    if c.program not in _NODE_MANAGERS:
        return
    operands = [a for a in c.args if not a.startswith("-")]
    sub = operands[0] if operands else ""
    if sub == "token" or (sub == "config" and any(_AUTH_KEY.search(o) for o in operands[1:])):
        f.fact("secrets_read", f"{c.text} (prints registry tokens)")


_RUNNER_OPTIONS = frozenset(
    words(
        "--script-shell --shell --node-options --userconfig --globalconfig --npmrc --config "
        "--node-arg --bun --require --preload --conditions"
    )
)


def runner_options(f: Findings) -> None:
    """Options of npm, pnpm, yarn and bun that choose how scripts run."""
    c = f.command
    if c.program not in _NODE_MANAGERS:
        return
    own = c.args[: c.args.index("--")] if "--" in c.args else c.args
    if any(a.partition("=")[0] in _RUNNER_OPTIONS for a in own):
        f.fact("code_execution", f"{c.text} (chooses the program scripts run with)")


DETECTORS: dict[str, Detector] = {
    "package_paths": package_paths,
    "registry_tokens": registry_tokens,
    "runner_options": runner_options,
}
"""Detector name -> detector, for the specs in `registry/packages.py`."""
