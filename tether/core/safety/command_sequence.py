"""Facts that come from the order of a line's commands, not from one command alone.

Each pass reads the analysed commands of a line in order and returns them with
what the order reveals: `xargs` arguments that come from a file listing
earlier in the pipe, and a file that an earlier network command downloaded
and a later one runs.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Sequence

from tether.core.safety.analysis import CommandAnalysis
from tether.core.safety.facts import RiskFact, make_fact
from tether.core.safety.processors import CredentialReader, Needs
from tether.core.safety.programs.base import names
from tether.core.safety.registry.network import NETWORK_PROGRAMS
from tether.core.safety.shell_model import SimpleCommand

__all__ = ["ListedArguments", "SequencePass", "runs_downloads"]

SequencePass = Callable[[Sequence[CommandAnalysis]], list[CommandAnalysis]]
"""One pass over a line's analysed commands, in order."""

_FINDERS = names("find gfind fd fdfind")
_LISTERS = _FINDERS | names("git rg grep ag ack")
"""Programs whose output, piped to xargs, is names of files under paths the sandbox checked."""
_NO_FILE_ARGUMENTS = names("echo printf true false : basename dirname expr seq sleep kill")
_FIND_NAME_OPTIONS = names("-name -iname -path -ipath -wholename -iwholename -regex -iregex")


class ListedArguments:
    """`... | xargs CMD`: CMD's file arguments come from stdin.

    From a program that lists files under paths the sandbox checks (`find`,
    `git ls-files`, `rg -l`), they are project files, credentials only if the
    listing names them (`find . -name .env | xargs cat`); from anywhere else
    they are paths only known at run time.

    Args:
        paths: recognises credential files.
    """

    needs = Needs(fields=("args_from_stdin",))
    """It changes only a command that takes arguments from stdin: a line without one is
    returned as it is (a finder's listing matters only to such a command after it)."""

    def __init__(self, paths: CredentialReader) -> None:
        self._paths = paths

    def __call__(self, analyses: Sequence[CommandAnalysis]) -> list[CommandAnalysis]:
        result = []
        listed: list[str] = []
        for analysis in analyses:
            command = analysis.command
            if command.program in _FINDERS:
                listed = _find_names(command)
            elif command.args_from_stdin:
                analysis = _with(analysis, self._stdin_facts(command, listed))
            result.append(analysis)
        return result

    def _stdin_facts(self, c: SimpleCommand, listed: Sequence[str]) -> list[RiskFact]:
        extra: list[RiskFact] = []
        if c.stdin_text is None and c.program not in _NO_FILE_ARGUMENTS:
            if c.stdin != "pipe" or not c.piped_from or not set(c.piped_from) <= _LISTERS:
                extra.append(make_fact("unresolved_path", f"{c.text} takes file names from stdin"))
            for name in listed if set(c.piped_from) & _FINDERS else ():
                reason = self._paths.credential_reason(name, glob=True)
                if reason is not None:
                    extra.append(make_fact("credential_access", f"{c.text} reads {name}: {reason}"))
                    break
        return extra


def runs_downloads(analyses: Sequence[CommandAnalysis]) -> list[CommandAnalysis]:
    """`curl -o x.sh URL && sh x.sh`: running what was just downloaded is piping it to a shell."""
    result = []
    downloaded: set[str] = set()
    for analysis in analyses:
        if downloaded:
            analysis = _with(analysis, _runs_download(analysis, downloaded))
        if analysis.command.program in NETWORK_PROGRAMS:
            downloaded |= _downloads(analysis)
        result.append(analysis)
    return result


# Nothing is downloaded before a network program runs: a line without one is returned as is.
runs_downloads.needs = Needs(programs=NETWORK_PROGRAMS)  # type: ignore[attr-defined]


def _with(analysis: CommandAnalysis, facts: Sequence[RiskFact]) -> CommandAnalysis:
    if not facts:
        return analysis
    return analysis._replace(facts=(*analysis.facts, *facts))


def _downloads(analysis: CommandAnalysis) -> set[str]:
    """Names of the files a network command may save (`curl -o x.sh`, `wget URL/x.sh`)."""
    names_ = {posixpath.basename(u.path) for u in analysis.paths if u.access == "write"}
    for arg in analysis.command.args:
        if "://" in arg:
            names_.add(posixpath.basename(arg.split("?", 1)[0].rstrip("/")))
    return {n for n in names_ if n}


def _runs_download(analysis: CommandAnalysis, downloaded: set[str]) -> list[RiskFact]:
    runs = [u.path for u in analysis.paths if u.access == "exec"]
    if "/" in analysis.command.program_text:
        runs.append(analysis.command.program_text)
    for path in runs:
        if posixpath.basename(path) in downloaded:
            return [make_fact("pipe_to_shell", f"{analysis.command.text} runs downloaded {path}")]
    return []


def _find_names(command: SimpleCommand) -> list[str]:
    """The names a `find` (or `fd`) lists: its -name/-path patterns, fd's pattern."""
    args = command.args
    if command.program in {"fd", "fdfind"}:
        return [a for a in args if not a.startswith("-")][:1]
    return [args[i + 1] for i, a in enumerate(args[:-1]) if a in _FIND_NAME_OPTIONS]
