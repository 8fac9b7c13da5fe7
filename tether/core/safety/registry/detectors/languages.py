"""Detectors for the little languages programs carry: sed, awk, jq, editor and pager commands.

The spec says where a script comes from (an operand, `-e`, `-f FILE`); what
a script does depends on its text, which `registry/scripts.py` reads.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tether.core.safety.facts import PathAccess
from tether.core.safety.registry.call import Call
from tether.core.safety.registry.detectors.words import is_secret_name
from tether.core.safety.registry.lazy import LazyPattern
from tether.core.safety.registry.scripts import awk_features, jq_features, sed_script

if TYPE_CHECKING:
    from tether.core.safety.programs.base import Findings

__all__ = [
    "awk_program",
    "editor_commands",
    "jq_filter",
    "pager_commands",
    "sed_program",
    "yq_expression",
]


def _forget_path(f: Findings, text: str) -> None:
    """Drop the path the spec named for a word that turned out to be a script."""
    for position, use in enumerate(f.paths):
        if use.path == text and use.access == "read":
            del f.paths[position]
            return


def sed_program(f: Findings, call: Call) -> None:
    """sed's script, command by command: `e` and `s///e` run commands, `w` writes files."""
    args = f.command.args
    in_place = call.has("-i") or call.has("-I")
    scripts = call.values("-e")
    operands = list(call.operands)
    dropped = False
    if call.has("-i") and not call.values("-i"):
        # BSD sed: `-i ''` takes the next word as the (empty) backup suffix.
        kept = [(i, t) for i, t in operands if not (t == "" and args[i - 1] == "-i")]
        dropped = len(kept) < len(operands)
        operands = kept
    if not scripts and not call.values("-f") and operands:
        scripts = [operands[0][1]]
        if dropped:
            _forget_path(f, operands[0][1])  # the spec took it for the first file
        operands = operands[1:]
    if in_place:
        for index, _ in operands:
            f.arg(index, "write")
    for script in scripts:
        use = sed_script(script)
        for command in use.commands:
            f.fact("code_execution", f"{f.command.text} (the sed script runs a command)")
            if command:
                f.shell_strings.append(command)
        for target in use.writes:
            f.fact("file_write")
            if target not in {"/dev/stdout", "/dev/stderr", ""}:
                f.text_path(target, "write")
        for target in use.reads:
            f.text_path(target, "read")
        if use.unknown:
            f.fact("unvetted", f"{f.command.text} ({use.unknown[0]})")


_AWK_LOAD = LazyPattern(r"@load\b")
_AWK_EXEC = LazyPattern(r"\bsystem\s*\(|\|\s*getline|\bprintf?\b[^;{}]*\|\s*\"|\|&")
_AWK_COMMAND = LazyPattern(
    r"(?:system\s*\(|\|\s*)\s*\"((?:[^\"\\]|\\.)*)\"|\"((?:[^\"\\]|\\.)*)\"\s*\|\s*getline"
)
_AWK_WRITE = LazyPattern(r"\bprintf?\b[^;{}]*>{1,2}\s*\"?[^\s;}\"=]")
# `getline < "file"` reads a file, `print > "file"` writes one: literal names are paths,
# any other expression is a file only known at run time.
_AWK_GETLINE = LazyPattern(
    # Any lvalue between `getline` and `<` (`a["k"]`, `$ 1`, `$(0)`, `a [1]`): a `<` later in
    # the statement is taken for the file too, which asks more, never less.
    r"\bgetline\b[^;{}\n<|]*<\s*(?:\"((?:[^\"\\]|\\.)*)\"|(\S))"
)
_AWK_QUIET_W = frozenset({"version", "v", "usage", "help"})
"""`awk -W VALUE` values that only print (mawk's version query is `-W version`)."""
_AWK_OUTPUT = LazyPattern(r"\bprintf?\b[^;{}|]*?>{1,2}\s*(?:\"((?:[^\"\\]|\\.)*)\"|(\S))")
_AWK_TO_SHELL = LazyPattern(r"\|&?\s*\"\s*(/bin/|/usr/bin/)?(sh|bash|zsh|dash|ksh)(\s+-s)?\s*\"")
_AWK_ENVIRON = LazyPattern(r"\bENVIRON\b(\s*\[\s*\"([^\"]*)\"\s*\])?")


def awk_program(f: Findings, call: Call) -> None:
    """The awk program: pipes, `system`, files it reads and writes, network files, ENVIRON."""
    programs = call.values("-e")
    operands = list(call.operands)
    if not call.has_pattern() and operands:
        programs.append(operands[0][1])
        operands = operands[1:]
    if "inplace" in call.values("-i"):
        f.fact("file_write")
    for value in call.values("-W"):
        # gawk's `-W NAME[=VALUE]` is `--NAME`: `-W source=`, `-W exec=`, `-W load=`,
        # `-W dump-variables=FILE`; mawk's `-W exec FILE` runs a file. Only a version or
        # usage query passes.
        if value not in _AWK_QUIET_W:
            # Not understood rather than unvetted: the spec lists `-W`, what it carries is
            # another option this reading does not follow.
            f.fact("not_understood", f"{f.command.text} (-W {value}: an awk option not vetted)")
            break
    if call.has("-l") or any(_AWK_LOAD.search(p) for p in programs):
        f.fact("code_execution", f"{f.command.text} (gawk loads a compiled extension)")
    if any("/inet/" in value for value in call.values("-v")) or any(
        "/inet/" in text and "=" in text for _, text in operands
    ):
        f.fact("reverse_shell", f"{f.command.text} (the awk program opens a network file)")
    for program in programs:
        _awk_text(f, program)


def _awk_text(f: Findings, program: str) -> None:
    if _AWK_EXEC.search(program):
        f.fact("code_execution", f"{f.command.text} (the awk program runs a command)")
        for match in _AWK_COMMAND.finditer(program):
            f.shell_strings.append(match.group(1) or match.group(2) or "")
    if _AWK_WRITE.search(program):
        f.fact("file_write")
    _awk_files(f, program)
    if _AWK_TO_SHELL.search(program):
        f.fact("pipe_to_shell", f"{f.command.text} (the awk program pipes text to a shell)")
    features = awk_features(program)
    if features & {"pipe", "system"}:
        f.fact("code_execution", f"{f.command.text} (the awk program runs a command)")
    if "network" in features:
        f.fact("reverse_shell", f"{f.command.text} (the awk program opens a network file)")
    if "directive" in features:
        f.fact("run_script", f"{f.command.text} (the awk program loads another file)")
    if "output" in features:
        f.fact("file_write", f"{f.command.text} (the awk program writes a file)")
    if "argv" in features:
        # `BEGIN{ARGV[1]="/root/.ssh/id_rsa"; ARGC=2}`: the program picks the files it reads.
        f.fact("unresolved_path", f"{f.command.text} (the awk program sets the files it reads)")
    if "symtab" in features:
        # `SYMTAB["ENV" "IRON"]`: any variable by a name built at run time.
        f.fact("unvetted", f"{f.command.text} (the awk program reaches variables by name)")


def _awk_files(f: Findings, program: str) -> None:
    accesses: tuple[tuple[LazyPattern, PathAccess], ...] = (
        (_AWK_GETLINE, "read"),
        (_AWK_OUTPUT, "write"),
    )
    for pattern, access in accesses:
        for match in pattern.finditer(program):
            if match.group(1) is not None:
                f.text_path(match.group(1), access)
            else:
                f.fact("unresolved_path", f"{f.command.text} (a file named at run time)")
    for match in _AWK_ENVIRON.finditer(program):
        name = match.group(2)
        if name is None:
            f.fact("env_dump", f"{f.command.text} (the awk program reads ENVIRON)")
        elif is_secret_name(name):
            f.fact("secrets_read", f"{f.command.text} (reads ${name})")


# `env`, `$ENV` (jq), `env(NAME)`, `strenv(NAME)` (yq): the environment, whole or by name.
_JQ_ENV = LazyPattern(
    r"(?<![\w.$])(?:str)?env\s*\(\s*\"?([A-Za-z_]\w*)|"
    r"(?<![\w.$])(?:\$ENV|env)\b(?:\s*\.\s*\"?([A-Za-z_]\w*)|\s*\[\s*\"([A-Za-z_]\w*)\"\s*\])?"
)
_YQ_LOAD = LazyPattern(r"\bload(?:_str|_xml|_props|_base64)?\s*\(\s*\"([^\"]*)\"")


_JQ_GAP = LazyPattern(r"\$(?:\s|#[^\n]*(?:\n|$))+")
"""Blanks and comments after `$`: jq reads `$ ENV` and `$#c<newline>ENV` as `$ENV`."""


def _environment(f: Findings, program: str) -> None:
    if "env" not in program.lower():
        return
    if "$" in program:
        program = _JQ_GAP.sub("$", program)
    for match in _JQ_ENV.finditer(program):
        name = match.group(1) or match.group(2) or match.group(3)
        if name is None:
            f.fact("env_dump", f"{f.command.text} (the filter reads the environment)")
        elif is_secret_name(name):
            f.fact("secrets_read", f"{f.command.text} (reads ${name})")


def jq_filter(f: Findings, call: Call) -> None:
    """jq's filter: the environment it reads, modules it imports."""
    for program in (a for a in f.command.args if not a.startswith("-")):
        _environment(f, program)
        if jq_features(program):
            f.fact("run_script", f"{f.command.text} (the filter loads a module)")


_YQ_FILES = (".yaml", ".yml", ".json", ".xml", ".toml", ".csv", ".tsv", ".properties")


def yq_expression(f: Findings, call: Call) -> None:
    """yq's expression (after an optional `eval`): the environment it reads, files it loads."""
    operands = list(call.operands)
    expressions = call.values("--expression")
    if operands and operands[0][1] in {"e", "eval", "ea", "eval-all"}:
        operands = operands[1:]
    first = operands[0][1] if operands else ""
    if operands and not expressions and not (first.endswith(_YQ_FILES) and "(" not in first):
        expressions.append(first)
        operands = operands[1:]
    if call.has("-i"):
        for index, _ in operands:
            f.arg(index, "write")
    for expression in expressions:
        _environment(f, expression)
        for match in _YQ_LOAD.finditer(expression):
            f.text_path(match.group(1), "read")


_EX_SHELL = LazyPattern(
    r"(?:^|[|:\s])(?:\d*,?\d*|%)?(?:r(?:ead)?\s*|w(?:rite)?\s*)?!\s*(.+)|"
    r"(?:system|systemlist|execute|jobstart|termopen|term_start)\s*\(\s*['\"](.*?)['\"]"
)


def editor_commands(f: Findings, call: Call) -> None:
    """`vim -c '!rm -rf /'`, `+'call system(...)'`: Ex commands that run a shell."""
    commands = [*call.values("-c"), *(t[1:] for _, t in call.operands if t[:1] == "+")]
    for command in commands:
        for match in _EX_SHELL.finditer(command):
            f.fact("code_execution", f"{f.command.text} (the editor runs a command)")
            f.shell_strings.append(match.group(1) or match.group(2) or "")


def pager_commands(f: Findings, call: Call) -> None:
    """`less +!id x`, `less '+|cmd' x`: a `+CMD` operand runs CMD when the pager starts."""
    for _, text in call.operands:
        if text.startswith("+") and ("!" in text or "|" in text):
            f.fact("code_execution", f"{f.command.text} (runs a shell command)")
