"""Script languages the registry's programs run: what a sed, awk or jq program may do.

This is the part of program knowledge that data cannot say, so it is code:
a sed script is read command by command (any delimiter, `s///e`, `w FILE`,
`e CMD`, `r FILE`), an awk program is scanned outside its strings and regular
expressions for pipes, `system`, directives and network files, a jq filter
for modules it loads. Anything a reader does not know is reported as such,
so the call is not vetted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from tether.core.safety.registry.lazy import LazyPattern

__all__ = ["ScriptUse", "awk_features", "jq_features", "sed_script"]


@dataclass(slots=True)
class ScriptUse:
    """What a script does beyond reading its input and printing."""

    commands: list[str] = field(default_factory=list)
    """Shell commands it runs (sed `e`, `s///e`)."""
    writes: list[str] = field(default_factory=list)
    reads: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    """Parts the reader does not know (the call is not vetted)."""


_SED_SIMPLE = frozenset("=dDgGhHlnNpPxzF")
_SED_LABELS = frozenset(":btT")
_SED_TEXT = frozenset("aic")
_SED_FILES = {"r": "read", "R": "read", "w": "write", "W": "write"}
_S_FLAGS = frozenset("gpiImM0123456789")


def sed_script(script: str) -> ScriptUse:
    """Read a sed script: the commands it runs, the files it reads and writes."""
    use = ScriptUse()
    text = script
    i = 0
    n = len(text)
    while i < n:
        c = text[i]
        if c in " \t\n;{}!":
            i += 1
            continue
        if c == "#":
            i = _line_end(text, i)
            continue
        i = _address(text, i, use)
        if i >= n:
            break
        c = text[i]
        if c in " \t!":
            i += 1
            while i < n and text[i] in " \t!":
                i += 1
            if i >= n:
                break
            c = text[i]
        if c in "{};\n":
            continue
        i += 1
        if c in _SED_SIMPLE:
            continue
        if c in "qQlL":
            while i < n and (text[i].isdigit() or text[i] in " \t"):
                i += 1
            continue
        if c == "v":
            i = _until(text, i, ";\n}")
            continue
        if c in _SED_LABELS:
            i = _until(text, i, ";\n}") if c != ":" else _until(text, i, "\n;")
            continue
        if c in _SED_TEXT:
            i = _text_end(text, i)
            continue
        if c in _SED_FILES:
            end = _line_end(text, i)
            target = text[i:end].strip()
            (use.writes if _SED_FILES[c] == "write" else use.reads).append(target)
            i = end
            continue
        if c == "e":
            end = _until(text, i, ";\n}")
            use.commands.append(text[i:end].strip())
            i = end
            continue
        if c == "y":
            i = _delimited(text, i, 2, use)
            continue
        if c == "s":
            i = _substitute(text, i, use)
            continue
        use.unknown.append(f"sed command {c!r}")
        return use
    return use


def _line_end(text: str, i: int) -> int:
    end = text.find("\n", i)
    return len(text) if end < 0 else end


def _until(text: str, i: int, stops: str) -> int:
    while i < len(text) and text[i] not in stops:
        i += 1
    return i


def _text_end(text: str, i: int) -> int:
    """`a text`, `a\\` newline text: to the end of the line, through escaped newlines."""
    while i < len(text):
        if text[i] == "\\" and i + 1 < len(text):
            i += 2
            continue
        if text[i] == "\n":
            return i
        i += 1
    return i


def _address(text: str, i: int, use: ScriptUse) -> int:
    """Skip `1`, `$`, `/re/`, `\\%re%`, `1~2`, `addr,+3` and their `I`/`M` flags."""
    for _ in range(2):
        n = len(text)
        if i < n and text[i].isdigit():
            while i < n and (text[i].isdigit() or text[i] == "~"):
                i += 1
        elif i < n and text[i] == "$":
            i += 1
        elif i < n and text[i] == "/":
            i = _regex_end(text, i + 1, "/", use)
            while i < n and text[i] in "IM":
                i += 1
        elif i + 1 < n and text[i] == "\\":
            i = _regex_end(text, i + 2, text[i + 1], use)
            while i < n and text[i] in "IM":
                i += 1
        else:
            return i
        if i < n and text[i] == ",":
            i += 1
            if i < n and text[i] in "+~":
                i += 1
            continue
        return i
    return i


def _regex_end(text: str, i: int, delimiter: str, use: ScriptUse) -> int:
    while i < len(text):
        if text[i] == "\\":
            i += 2
            continue
        if text[i] == delimiter:
            return i + 1
        i += 1
    use.unknown.append("an unterminated sed expression")
    return i


def _delimited(text: str, i: int, parts: int, use: ScriptUse) -> int:
    if i >= len(text) or text[i] in "\n\\":
        use.unknown.append("a sed command without a delimiter")
        return len(text)
    delimiter = text[i]
    i += 1
    for _ in range(parts):
        i = _regex_end(text, i, delimiter, use)
    return i


def _substitute(text: str, i: int, use: ScriptUse) -> int:
    i = _delimited(text, i, 2, use)
    n = len(text)
    while i < n and text[i] in _S_FLAGS:
        i += 1
    if i < n and text[i] == "e":
        use.commands.append("")  # runs the pattern space as a command
        i += 1
        while i < n and text[i] in _S_FLAGS:
            i += 1
    if i < n and text[i] == "w":
        end = _line_end(text, i + 1)
        use.writes.append(text[i + 1 : end].strip())
        return end
    if i < n and text[i] not in " \t\n;}#":
        use.unknown.append(f"sed s flag {text[i]!r}")
        return n
    return i


# -- awk ----------------------------------------------------------------------------------

_AWK_STRING = LazyPattern(r'"(?:[^"\\]|\\.)*"?')
_AWK_AFTER_OPERAND = LazyPattern(r"[\w)\]$.]\s*$")


def awk_features(program: str) -> set[str]:
    """What an awk program does beyond reading and printing.

    `pipe` (`print | cmd`, `cmd | getline`, `|&`), `system`, `directive`
    (`@include`, `@load`), `network` (`/inet/...` special files), `environ`,
    `argv` (the program changes the files it reads), `symtab` (variables by
    name) and `output` (`print > file`) are read outside strings and regular
    expressions, so `/a|b/` and `"x > y"` are not taken for them.
    """
    features: set[str] = set()
    masked: list[str] = []
    i = 0
    n = len(program)
    in_print = False
    while i < n:
        c = program[i]
        if c == '"':
            match = _AWK_STRING.match(program, i)
            literal = match.group(0) if match else program[i:]
            if literal[1:].startswith("/inet"):
                features.add("network")
            masked.append('""')
            i += len(literal)
            continue
        if c == "/" and not _AWK_AFTER_OPERAND.search("".join(masked[-8:])):
            end = i + 1
            while end < n and program[end] != "/":
                end += 2 if program[end] == "\\" else 1
            masked.append("//")
            i = end + 1
            continue
        if c == "#":
            end = program.find("\n", i)
            i = n if end < 0 else end
            continue
        masked.append(c)
        i += 1
    code = "".join(masked)
    if re.search(r"(?<!\|)\|(?!\|)", code):
        features.add("pipe")
    if re.search(r"\bsystem\b", code):
        features.add("system")
    if "@" in code:
        features.add("directive")
    if re.search(r"\b(ENVIRON|PROCINFO)\b", code):
        features.add("environ")
    if re.search(r"\bARGV\b", code):
        features.add("argv")
    if re.search(r"\bSYMTAB\b", code):
        features.add("symtab")
    for statement in re.split(r"[;{}\n]", code):
        in_print = bool(re.search(r"\bprintf?\b", statement))
        if in_print and re.search(r">", statement.split("print", 1)[-1]):
            features.add("output")
    return features


# -- jq -----------------------------------------------------------------------------------

_JQ_MODULE = LazyPattern(r"(?:^|[^\w$.])(import|include)\s*\"")


def jq_features(program: str) -> set[str]:
    """`module`: the filter imports or includes another file."""
    return {"module"} if _JQ_MODULE.search(program) else set()
