"""Detectors of git: what depends on operands and setting names, which the spec cannot list.

The spec (`registry/git.py`) says which subcommands only read, which options
take values and which options force, discard or delete. These detectors read
the rest, with the spec's own option syntax (`git_call` runs the three, in this order):

- `git_settings`: `-c KEY=VALUE` and `--config-env KEY=VAR` of a setting that
  runs a command (`COMMAND_KEYS`), `--exec-path=DIR`;
- `git_pathspecs`: the paths a call names (pathspecs, `REV:path`, `clone`'s
  target, `--output=FILE`), and `git X --help`, which only prints a page;
- `git_changes`: the meaning of operands: an unknown subcommand changes the
  repository, `git branch NEW` and `git tag NEW` create, `git stash` (a push),
  `stash drop`/`clear` discard, `checkout -- f`/`checkout .`/`restore f`
  overwrite work, `push origin +main`/`:main` force or delete, `git config K V`
  sets (a command-running key is `git_hooks`), credential keys and helpers
  print secrets.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING

from tether.core.safety.options import Option, parse_option_into
from tether.core.safety.registry.git import SPECS, runs_command
from tether.core.safety.registry.spec import realise, words

if TYPE_CHECKING:
    from tether.core.safety.programs.base import Findings

__all__ = ["DETECTORS"]

Detector = Callable[["Findings"], None]

# Settings that hold or lead to credentials (`http.extraHeader: Authorization: ...`).
_CREDENTIAL_KEY = re.compile(r"credential|extraheader|token|password", re.IGNORECASE)
_HOOK_KEYS = frozenset({"core.hookspath", "core.fsmonitor"})
_GIT = SPECS["git"]
"""The registry's spec of git (`REGISTRY["git"]`), compiled when a call first reads it."""


class _Call:
    """A git call split as the spec reads it: global options, the subcommand, the rest."""

    __slots__ = ("globals", "help", "node", "rest", "rest_at", "sub", "words")

    def __init__(self, args: tuple[str, ...]) -> None:
        root = _GIT if _GIT.ready else realise(_GIT)
        self.globals: list[Option] = []
        """The options before the subcommand (`-c KEY=VALUE`, `-C DIR`)."""
        index = 0
        count = len(args)
        while index < count and len(args[index]) > 1 and args[index][0] == "-":  # is_option
            index = parse_option_into(args, index, root.parsing, self.globals)
        self.sub = args[index] if index < count else ""
        rest_at = self.rest_at = index + 1
        rest = self.rest = args[rest_at:]
        # Only a lone `-h` is help: `git grep -h KEY -- .env` hides file names.
        self.help = "--help" in rest or rest == ("-h",)
        """`git X --help` only prints a page (read once for both detectors that ask)."""
        node = self.node = root.subs.get(self.sub)
        found: list[tuple[int, str]] = []
        self.words = found
        """Operands after the subcommand (up to `--`), with their argument indexes, read
        once per call (a plain attribute: the detectors read it without a call)."""
        if not rest:
            return
        # The options are read only to step over their values; read here, not in a
        # method of their own, since every git call with words after its subcommand does.
        spec = (node or _GIT.subs["commit"]).parsing
        skipped: list[Option] = []
        index = 0
        count = len(rest)
        while index < count:
            arg = rest[index]
            if arg == "--":
                break
            if len(arg) > 1 and arg[0] == "-":  # is_option
                index = parse_option_into(rest, index, spec, skipped)
                continue
            found.append((rest_at + index, arg))
            index += 1


_last: tuple[tuple[str, ...], _Call] | None = None


def _call(args: tuple[str, ...]) -> _Call:
    """The reading of one call, shared by the three detectors of that call.

    Kept only for the very same arguments object (`is`, not `==`): the detectors
    of one command read its one `args` tuple, while every fresh call parses into
    new tuples, so nothing read for one gate call is reused by another (a memo
    keyed on the words would make a fresh call cheaper than it is).
    """
    global _last
    last = _last
    if last is not None and last[0] is args:
        return last[1]
    call = _Call(args)
    _last = (args, call)
    return call


def git_settings(f: Findings) -> None:
    """`git -c core.pager=… log`, `--config-env=core.editor=VAR`, `--exec-path=DIR`."""
    args = f.command.args
    if not args or len(args[0]) < 2 or args[0][0] != "-":  # not is_option(args[0])
        return  # global options come first: without one there is nothing to read
    call = _call(args)
    for option in call.globals:
        value = option.value or ""
        if option.name == "-c":
            key, _, key_value = value.partition("=")
            if runs_command(key, key_value):
                f.fact("git_hooks", f"{f.command.text} (a git setting that runs commands)")
        elif option.name == "--config-env":
            if runs_command(value.partition("=")[0], None):
                f.fact("git_hooks", f"{f.command.text} (a git setting from the environment)")
        elif option.name == "--exec-path" and option.value is not None:
            f.fact("code_execution", f"{f.command.text} (git programs from another directory)")


def _no_operand(args: tuple[str, ...]) -> bool:
    """Whether a call of one or two words is a subcommand alone (`git status`) or with one
    option word (`git diff --stat`) other than `--`, a help request or an `--output=`.

    Such a call has no global option (its subcommand is its first word) and no operand
    (an option's value would be a word after it): neither `git_pathspecs` nor
    `git_changes` has a word to read past the subcommand.
    """
    sub = args[0]
    if len(sub) > 1 and sub[0] == "-":
        return False  # a global option: the subcommand, if any, comes later
    if len(args) == 1:
        return True
    option = args[1]
    return (
        len(option) > 1
        and option[0] == "-"
        and option not in _READ_ALONE
        and option[:9] != "--output="
    )


_READ_ALONE = frozenset({"--", "--help", "-h"})
"""Option words `git_pathspecs` reads after a subcommand: what follows `--` is a pathspec,
and a help request prints a page."""


def git_pathspecs(f: Findings) -> None:
    """Pathspecs, `REV:path` (`git show HEAD:.env` prints that file), `clone`'s target."""
    f.handled_paths = True
    args = f.command.args
    count = len(args)
    if count < 2 or (count == 2 and _no_operand(args)):
        # Nothing after the subcommand (`git status`, `git --version`), or one option word
        # (`git diff --stat`): no operand, `REV:path`, `--output=` or `--help` to read.
        return
    call = _call(args)
    rest = call.rest
    if not call.sub or not rest:
        return  # `git status`: no word to name as a path (nor `--help`)
    if call.help:
        f.subcommand = ("help", call.sub)
        return
    positionals = {index for index, _ in call.words}
    after_dashes = False
    for position, arg in enumerate(rest, start=call.rest_at):
        if arg.startswith("--output="):
            # Unlisted in the spec (unvetted), but what it writes is still checked.
            f.text_path(arg.partition("=")[2], "write")
            f.fact("file_write", f"{f.command.text} (--output writes a file)")
        revision, colon, path = arg.partition(":")
        if colon and path and "://" not in arg and not arg.startswith("-") and "@" not in revision:
            f.text_path(path, "read")  # `HEAD:.env`, `:.env` (the index)
        if arg == "--" and not after_dashes:
            after_dashes = True
        elif (after_dashes or position in positionals) and "://" not in arg:
            # Revisions and pathspecs look alike (`main`, `src/app.py`): both are checked
            # as paths, which costs a revision nothing and catches `git blame .env`.
            f.arg(position, "arg")
    if call.sub == "clone":
        operands = call.words
        if len(operands) >= 2:
            f.arg(operands[1][0], "write")


def git_changes(f: Findings) -> None:
    """What a subcommand's operands make it do."""
    args = f.command.args
    if 0 < len(args) < 3 and _no_operand(args):
        sub = args[0]
        # A subcommand the spec lists, with no operand (`git status`, `git diff --stat`):
        # neither an unknown one nor a word below it, nothing for `_CHANGES` to read
        # (those are read in full even so), no credential store asked.
        root = _GIT if _GIT.ready else realise(_GIT)
        if sub in root.subs and sub not in _CHANGES and sub[:10] != "credential":
            return
    call = _call(args)
    sub = call.sub
    if not sub or call.help:
        return
    words = [text for _, text in call.words] if call.words else []
    text = f.command.text
    if sub.startswith("credential"):
        # `git credential fill` prints the stored password or token.
        f.fact("secrets_read", f"{text} (asks git's credential store)")
    node = call.node
    if node is None:
        f.fact("git_mutation", f"{text} (git {sub})")
        return
    # `git remote add`, `git worktree add`, `git stash pop`: a word the spec does not
    # list below a subcommand that lists its own (`remote show`, `stash list`).
    if node.subs and node.operands == ("none",) and words and words[0] not in node.subs:
        f.fact("git_mutation", f"{text} (git {sub} {words[0]})")
    changes = _CHANGES.get(sub)
    if changes is not None:
        changes(f, call, words)


def _branch_or_tag(f: Findings, call: _Call, words: list[str]) -> None:
    listing = {"-l", "--list", "-a", "--all", "-r", "--remotes", "--show-current", "-v", "-vv"}
    listing |= {"--verify", "-n", "--contains", "--points-at", "--merged", "--no-merged"}
    if words and not any(a.split("=")[0] in listing for a in call.rest):
        f.fact("git_mutation", f"{f.command.text} (creates a {call.sub})")


def _stash(f: Findings, call: _Call, words: list[str]) -> None:
    action = words[0] if words else "push"
    if action in {"list", "show"}:
        return
    if action in {"drop", "clear"}:
        f.fact("git_discard", f"{f.command.text} (deletes stashed work)")
    f.fact("git_mutation", f"{f.command.text} (changes the working tree)")


def _checkout(f: Findings, call: _Call, words: list[str]) -> None:
    if "--" in call.rest or "." in words:
        f.fact("git_discard", f"{f.command.text} (overwrites uncommitted changes)")


def _restore(f: Findings, call: _Call, words: list[str]) -> None:
    staged = any(a in {"--staged", "-S"} for a in call.rest)
    if not staged or any(a in {"--worktree", "-W"} for a in call.rest):
        f.fact("git_discard", f"{f.command.text} (overwrites uncommitted changes)")


def _push(f: Findings, call: _Call, words: list[str]) -> None:
    refspecs = words[1:]
    if any(r.startswith("+") for r in refspecs):
        f.fact("force_push", f"{f.command.text} (overwrites remote history)")
    elif any(r.startswith(":") for r in refspecs):
        f.fact("force_push", f"{f.command.text} (deletes a remote branch)")


_CONFIG_READS = frozenset(
    words(
        "--get --get-all --get-regexp --list -l --get-urlmatch --show-origin --show-scope "
        "--name-only --get-color --get-colorbool"
    )
)


def _config(f: Findings, call: _Call, words: list[str]) -> None:
    text = f.command.text
    reading = any(a.split("=")[0] in _CONFIG_READS for a in call.rest)
    if words[:1] == ["list"] and "--name-only" not in call.rest:
        # Every setting, the tokens denied one by one among them (`http.*.extraheader`).
        f.fact("unvetted", f"{text} (prints every setting, tokens included)")
    if reading or words[:1] in (["get"], ["list"]):
        if any(_CREDENTIAL_KEY.search(w) for w in words):
            f.fact("secrets_read", f"{text} (reads credential settings)")
        return
    keys = [w for w in words if w not in {"set", "unset", "add"}]
    unsetting = any(a.startswith("--unset") for a in call.rest) or words[:1] == ["unset"]
    if len(keys) <= 1 and not unsetting:
        if keys and _CREDENTIAL_KEY.search(keys[0]):
            f.fact("secrets_read", f"{text} (reads credential settings)")
        return  # `git config user.name` reads one value
    key = keys[0].lower() if keys else ""
    if key in _HOOK_KEYS or runs_command(key, None):
        f.fact("git_hooks", f"{text} (a git setting that runs commands)")
    f.fact("git_mutation", f"{text} (changes git settings)")


def git_call(f: Findings) -> None:
    """git's three detectors in order: `git_settings`, `git_pathspecs`, `git_changes`.

    A call of a subcommand the spec lists, alone or with one option word (`git status`,
    `git diff --stat`), is told apart once for the three: it has no global option (its
    first word is the subcommand), so `git_settings` finds nothing; `git_pathspecs` has
    no word past the subcommand to read and only says the paths are named; and
    `git_changes` returns as its own shortcut does.
    """
    args = f.command.args
    if 0 < len(args) < 3 and _no_operand(args):
        sub = args[0]
        root = _GIT if _GIT.ready else realise(_GIT)
        if sub in root.subs and sub not in _CHANGES and sub[:10] != "credential":
            f.handled_paths = True
            return
    git_settings(f)
    git_pathspecs(f)
    git_changes(f)


_CHANGES: dict[str, Callable[[Findings, _Call, list[str]], None]] = {
    "branch": _branch_or_tag,
    "tag": _branch_or_tag,
    "stash": _stash,
    "checkout": _checkout,
    "restore": _restore,
    "push": _push,
    "config": _config,
}

DETECTORS: dict[str, Detector] = {
    "git_call": git_call,
    "git_settings": git_settings,
    "git_pathspecs": git_pathspecs,
    "git_changes": git_changes,
}
"""Detector name -> detector, for the spec in `registry/git.py`."""
