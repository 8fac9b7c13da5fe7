"""Detectors of the network programs: what a spec cannot say because it depends on a value.

Each detector has one job and is named by the specs that use it
(`registry/network.py`, `scan="remote_copy"`):

- `curl_sent_files`: `-d @file`, `--data-binary @file`, `-F field=@file` send a file;
- `file_urls`: a `file://` URL reads a local file;
- `remote_copy`: which operands of scp, sftp and rsync are local (read, or written
  when last) and which are remote (`host:path`, `user@host:path`, `rsync://`);
- `socat`: an `EXEC:`/`SYSTEM:` address runs a program over the connection, a
  `FILE:`/`OPEN:`/`CREATE:` address is a local file;
- `request_items`: httpie's and xh's `field@file`, `field=@file`, `field:=@file`;
- `shell_modules`: `zmodload zsh/net/tcp` loads the shell's own sockets;
- `transfer_script`: the commands an interactive transfer client reads (sftp, ftp,
  lftp, tftp, smbclient) from a here-string, a here-document, a pipe from
  `echo`/`printf`, or `-c`/`-e`:
  the local files every upload command sends (`put`, `mput`, `reput`, `append`,
  `send`, `mirror -R`, smbclient's tar mode) and the local shell escapes (`!cmd`).

A local file that is sent is named as a path read, so a credential file among
them is a credential read, which is denied.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable
from typing import TYPE_CHECKING

from tether.core.safety.options import OptionSpec, ParsedArgs, parse_args
from tether.core.safety.registry import REGISTRY
from tether.core.safety.registry.spec import Node, words

if TYPE_CHECKING:
    from tether.core.safety.programs.base import Findings

__all__ = ["DETECTORS", "is_remote", "parse_root"]

Detector = Callable[["Findings"], None]


def parse_root(f: Findings, spec: Node) -> ParsedArgs:
    """The call's options and operands, read with the syntax of `spec` (its root).

    Several detectors of one call read it: the reading is kept for the very same
    arguments object and syntax (`is`, not `==`), so it is shared by the detectors
    of one command and never carried from one gate call to the next (every fresh
    call parses into new tuples).
    """
    global _last
    args = f.command.args
    syntax = spec.parsing
    last = _last
    if last is not None and last[0] is args and last[1] is syntax:
        return last[2]
    parsed = parse_args(args, syntax)
    _last = (args, syntax, parsed)
    return parsed


_last: tuple[tuple[str, ...], OptionSpec, ParsedArgs] | None = None


def _spec(f: Findings) -> Node:
    return REGISTRY[f.command.program]


_DATA = frozenset(words("-d --data --data-binary --data-urlencode --data-ascii --json --data-raw"))
_FORM = frozenset({"-F", "--form"})


def curl_sent_files(f: Findings) -> None:
    """`-d @file`, `--json @file`, `-F field=@file` and `-F field=<file` send a local file."""
    f.handled_paths = True
    parsed = parse_root(f, _spec(f))
    for option in parsed.options:
        value = option.value
        if value is None:
            continue
        dynamic = option.value_index in f.command.dynamic_args
        if option.name in _FORM:
            for match in re.finditer(r"=[@<]([^;]+)", value):
                f.text_path(match.group(1), "read", dynamic=dynamic)
        elif option.name in _DATA and option.name != "--data-raw":
            # `--data-urlencode name@file` sends the file too.
            at = value.find("@")
            sent = at == 0 or (at > 0 and option.name == "--data-urlencode")
            if sent and value[at + 1 :] not in {"", "-"}:
                f.text_path(value[at + 1 :], "read", dynamic=dynamic)


def file_urls(f: Findings) -> None:
    """`curl file:///etc/passwd`, `wget file://…`: a URL that reads a local file."""
    f.handled_paths = True
    parsed = parse_root(f, _spec(f))
    values = [text for _, text in parsed.operands] + parsed.values("--url")
    for text in values:
        if text.lower().startswith("file://"):
            f.text_path(text[7:] or "/", "read")


def is_remote(text: str) -> bool:
    """`host:path`, `user@host:path` or a URL, as scp and rsync understand them."""
    if text.startswith(("/", "./", "../", "~")):
        return False
    return bool(re.match(r"^([\w.-]+@)?[\w.\[\]:-]+:|^\w+://", text))


def remote_copy(f: Findings) -> None:
    """scp, sftp and rsync operands: local sources are read, a local destination written."""
    f.handled_paths = True
    operands = parse_root(f, _spec(f)).operands
    if f.command.program == "sftp":
        # `sftp host:file [local]`: a download; the local operand is written.
        for index, text in operands[1:]:
            if not is_remote(text):
                f.arg(index, "write")
        return
    for position, (index, text) in enumerate(operands):
        if not is_remote(text):
            f.arg(index, "write" if position == len(operands) - 1 else "read")
    if any(is_remote(text) for _, text in operands):
        f.fact("network")


def socat(f: Findings) -> None:
    """socat's addresses: a program run over the connection, or a local file."""
    f.handled_paths = True
    for arg in f.command.args:
        for part in arg.split("!!"):
            if re.match(r"^(exec|system):", part, re.IGNORECASE):
                f.fact("reverse_shell", f"{f.command.text} (runs a program over the connection)")
            match = re.match(r"^(?:open|create|gopen|file|pipe):([^,]+)", part, re.IGNORECASE)
            if match:
                f.text_path(match.group(1), "write")


# Commands of the interactive transfer clients that send local files: the local
# operands of each (`put LOCAL [REMOTE]`, `mput LOCAL…`, `mirror -R LOCAL REMOTE`).
_SEND_FIRST = frozenset({"put", "reput", "append", "send", "aput", "ascii-put", "reget-put"})
_SEND_ALL = frozenset({"mput", "mreput"})
_ESCAPE = re.compile(r"^\s*(?:!|shell\b|local\s+!?|lpipe\b|sys\b)(.*)$")
_SOURCES = frozenset({"source", "exec", "lftp"})


def transfer_script(f: Findings) -> None:
    """Uploads and shell escapes in the commands a transfer client is given."""
    c = f.command
    f.handled_paths = True
    parsed = parse_root(f, _spec(f))
    scripts = parsed.values("-c", "--command", "-e")
    if c.stdin_text is not None:
        scripts.append(c.stdin_text)  # a here-string, a here-document, `echo 'put x' |`
    elif c.stdin in {"pipe", "file"} and c.program in {"sftp", "ftp", "tftp", "pftp"}:
        # Commands from a pipe or a file: what it uploads cannot be seen.
        f.fact("unvetted", f"{c.text}: transfer commands from {c.stdin} are not seen")
    if c.program == "smbclient":
        _smb_tar(f, parsed)
    for script in scripts:
        for line in re.split(r"[\n;]", script):
            _transfer_command(f, line)


def _transfer_command(f: Findings, line: str) -> None:
    escape = _ESCAPE.match(line)
    if escape and escape.group(1).strip():
        f.fact("code_execution", f"{f.command.program} runs a local command: {line.strip()}")
        f.shell_strings.append(escape.group(1).strip())
        return
    try:
        words = shlex.split(line, comments=True)
    except ValueError:
        words = line.split()
    if not words:
        return
    verb = words[0].lower()
    rest = words[1:]
    operands = [w for w in rest if not w.startswith("-")]
    if verb in _SEND_FIRST and operands:
        f.text_path(operands[0], "read")
    elif verb in _SEND_ALL:
        for word in operands:
            f.text_path(word, "read")
    elif verb == "mirror" and any(w in {"-R", "--reverse"} or _cluster_has(w, "R") for w in rest):
        if operands:
            f.text_path(operands[0], "read")
            f.fact("tree_read", f"{f.command.program} mirror -R uploads the tree {operands[0]}")
    elif verb in _SOURCES and operands:
        f.fact("run_script", f"{f.command.program} runs the commands in {operands[0]}")
        f.text_path(operands[0], "read")


def _cluster_has(word: str, letter: str) -> bool:
    return word.startswith("-") and not word.startswith("--") and letter in word[1:]


def _smb_tar(f: Findings, parsed: ParsedArgs) -> None:
    """`smbclient //h/s -Tx backup.tar`: tar mode restores (uploads) a local archive."""
    if any(o.name in {"-T", "--tar"} and "x" in (o.value or "") for o in parsed.options):
        for index, text in parsed.operands:
            if not text.startswith(("//", "\\\\")):
                f.arg(index, "read")


_REQUEST_FILE = re.compile(r"^[^=:@\s]*(?:=|:=)?@(?P<path>.+)$")


def request_items(f: Findings) -> None:
    """httpie's and xh's request items that read a file (`f@.env`, `f=@.env`, `f:=@.env`)."""
    f.handled_paths = True
    for index, text in parse_root(f, _spec(f)).operands:
        if "://" in text.partition("@")[0]:
            continue  # `https://user@host/`: a URL, not an item
        match = _REQUEST_FILE.match(text)
        if match:
            f.text_path(match.group("path"), "read", dynamic=index in f.command.dynamic_args)


def shell_modules(f: Findings) -> None:
    """`zmodload zsh/net/tcp`: the shell loads its own sockets (`ztcp`, `zsocket`)."""
    if any(arg.startswith("zsh/net") for arg in f.command.args):
        f.fact("network", f"{f.command.text} (loads the shell's sockets)")


DETECTORS: dict[str, Detector] = {
    "request_items": request_items,
    "shell_modules": shell_modules,
    "curl_sent_files": curl_sent_files,
    "file_urls": file_urls,
    "remote_copy": remote_copy,
    "socat": socat,
    "transfer_script": transfer_script,
}
"""Detector name -> detector, for the specs in `registry/network.py`."""
