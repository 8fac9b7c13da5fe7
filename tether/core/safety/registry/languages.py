"""The programs that run code: the shells and the interpreters of other languages.

One list each, read by wrapper unwrapping (`wrappers.py`), by the specs that
name the code detectors (`interpreters.py`) and by the analyzer.
"""

from __future__ import annotations

from tether.core.safety.registry.spec import words

__all__ = ["INTERPRETERS", "SHELLS"]

SHELLS = frozenset(words("sh bash zsh dash ksh mksh ash fish tcsh csh yash rbash"))
"""Programs that run shell code given with -c, as a script file, or on stdin."""

INTERPRETERS = frozenset(
    words(
        "python python2 python3 pypy pypy3 node nodejs deno bun perl ruby php lua luajit tclsh "
        "wish rscript julia osascript pwsh powershell groovy scala kotlin jshell irb ts-node "
        "tsx expect"
    )
)
"""Programs that run code in another language (inline, from a file, or from stdin)."""
