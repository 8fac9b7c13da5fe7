"""Specs of the programs that run code: interpreters, shells, `eval`, `source`, builds.

Where their code comes from (`-c`, `-e`, a file, stdin, a here-document) and
what inline code does are read by the detectors in `detect_code.py`, which
these specs name; no option of an interpreter is vetted one by one, because
running code already asks, and the detectors add the facts that ask
(`interpreter`, `shell`, `eval`, `source`). The test runners and builds with specs in `dev.py`
(`pytest`, `make`, `just`, `bun`, `deno`, `tsx`) get their detectors here.
"""

from __future__ import annotations

from tether.core.safety.registry.dev import SPECS as _DEV
from tether.core.safety.registry.languages import INTERPRETERS, SHELLS
from tether.core.safety.registry.spec import Node, program

__all__ = ["SPECS"]


def _runs_code(names: str, detector: str) -> dict[str, Node]:
    return program(names, "", operands="a", any_options=True, scan=detector)


_OWN = {"pytest py.test": "pytest_basetemp", "make gmake just": "make_overrides"}
_OWN.update({"bun deno": "runtime", "tsx": "interpreter"})

SPECS: dict[str, Node] = {
    **_runs_code(" ".join(sorted(INTERPRETERS - _DEV.keys())), "interpreter"),
    **_runs_code(" ".join(sorted(SHELLS)), "shell"),
    **_runs_code("eval", "eval"),
    **_runs_code("source .", "source"),
    # A zsh module is shared code loaded into the shell; `zsh/net/*` are its sockets.
    **program(
        "zmodload", "", operands="v", facts="shell_state", any_options=True, scan="shell_modules"
    ),
    **program(
        "ninja",
        "-C=d -j= -k= -l= -f=f -n -v --verbose --quiet -d= -w= --version -h",
        operands="v",
        scan="make_overrides",
    ),
    **program(
        "task go-task",
        "-d|--dir=d -t|--taskfile=f -l|--list -a|--list-all -v|--verbose -s|--silent "
        "-f|--force -p|--parallel -n|--dry -C|--concurrency= --summary --status "
        "-x|--exit-code -o|--output= -w|--watch!process_control --version -h|--help",
        operands="v",
        one_target=True,
        scan="make_overrides",
    ),
}
for _names, _detector in _OWN.items():
    for _name in _names.split():
        _spec = _DEV[_name]
        if _detector not in _spec.scan:
            _spec.scan = (_detector, *_spec.scan)
        SPECS[_name] = _spec
del _names, _detector, _name, _spec
