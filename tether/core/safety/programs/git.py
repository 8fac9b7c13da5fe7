"""git: which subcommands only read, which change the repository, which rewrite history."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from tether.core.safety.programs.base import Findings, HandlerTable, names
from tether.core.safety.registry.git import runs_command

__all__ = ["GIT_READ_SUBCOMMANDS", "HANDLERS"]

HANDLERS = HandlerTable()

GIT_READ_SUBCOMMANDS = names(
    "status log diff show blame annotate shortlog describe rev-parse rev-list ls-files ls-tree "
    "cat-file show-ref for-each-ref grep whatchanged name-rev merge-base count-objects "
    "check-ignore check-attr var version help cherry range-diff verify-commit verify-tag "
    "diff-tree diff-files diff-index show-branch fsck check-ref-format get-tar-commit-id "
    "--version --help -v -h"
)
"""Subcommands that only read (unless an option writes, like `diff --output`)."""

_GLOBAL_VALUES = names("-C -c --git-dir --work-tree --namespace --config-env --super-prefix")
_VALUES = names(
    "-m --message -F --file -C -c --reuse-message --reedit-message --author --date --format "
    "--pretty -n --max-count --since --until --after --before --grep --committer -U --unified "
    "-b -B -X -s --strategy --strategy-option -o --push-option --onto --exec -x --depth --branch "
    "--origin --template --reference --separate-git-dir --jobs -j --shallow-since "
    "--shallow-exclude --filter --config --upload-pack --receive-pack --exclude --sort "
    "--points-at --contains --no-contains --merged --no-merged --set-upstream-to -u --abbrev "
    "--encoding --output -O --color-moved --word-diff --word-diff-regex -G -S --diff-filter -L "
    "--skip --cleanup --trailer --squash --fixup"
)
_NETWORK = names("clone fetch pull push ls-remote send-email request-pull")
_FORCE = names("-f --force --force-with-lease --force-if-includes --mirror --prune")
_HOOK_KEYS = names("core.hookspath core.fsmonitor")

# Settings that hold or lead to credentials (`http.extraHeader: Authorization: ...`).
_CREDENTIAL_KEY = re.compile(r"credential|extraheader|token|password", re.IGNORECASE)

_Sub = Callable[[Findings, Sequence[str], Sequence[str]], None]


@HANDLERS.on("git")
def _git(f: Findings) -> None:
    args = f.command.args
    index = 0
    while index < len(args) and args[index].startswith("-"):
        name, equals, value = args[index].partition("=")
        if name in {"-C", "--git-dir", "--work-tree"}:
            if equals:
                f.text_path(value, "cd")
            else:
                f.arg(index + 1, "cd")
        setting = value if name == "-c" and equals else None
        if name == "-c" and not equals and index + 1 < len(args):
            setting = args[index + 1]
        if setting is not None:
            key, _, key_value = setting.partition("=")
            if runs_command(key, key_value):
                f.fact("git_hooks", f"{f.command.text} (a git setting that runs commands)")
        if name == "--config-env":
            key = value if equals else args[index + 1] if index + 1 < len(args) else ""
            if runs_command(key.partition("=")[0], None):
                f.fact("git_hooks", f"{f.command.text} (a git setting from the environment)")
        if name == "--exec-path" and equals:
            f.fact("code_execution", f"{f.command.text} (git programs from another directory)")
        index += 2 if name in _GLOBAL_VALUES and not equals else 1
    f.handled_paths = True
    if index >= len(args):
        return
    sub = args[index]
    rest = args[index + 1 :]
    positionals = _positionals(rest)
    f.subcommand = (sub, *positionals[:2])
    if "--help" in rest or list(rest) == ["-h"]:
        # Only a lone `-h` is help: `git grep -h KEY -- .env` hides file names.
        f.subcommand = ("help", sub)
        return
    _outputs(f, sub, index + 1, rest)
    _paths(f, index + 1, rest)
    handler = _SUBCOMMANDS.get(sub)
    if sub == "credential" or sub.startswith("credential-"):
        # `git credential fill` prints the stored password or token.
        f.fact("secrets_read", f"{f.command.text} (asks git's credential store)")
    if handler is not None:
        handler(f, rest, positionals)
    elif sub not in GIT_READ_SUBCOMMANDS:
        f.fact("git_mutation", f"{f.command.text} (git {sub})")
    if sub in _NETWORK:
        f.fact("network")


def _positionals(rest: Sequence[str]) -> list[str]:
    found: list[str] = []
    skip = False
    for arg in rest:
        if skip:
            skip = False
        elif arg == "--":
            break
        elif arg.startswith("-"):
            skip = _takes_value(arg)
        else:
            found.append(arg)
    return found


def _takes_value(option: str) -> bool:
    """`-m MSG`, and clusters ending in such a letter (`git commit -am MSG`)."""
    if option in _VALUES:
        return True
    return not option.startswith("--") and len(option) > 2 and f"-{option[-1]}" in _VALUES


def _outputs(f: Findings, sub: str, offset: int, rest: Sequence[str]) -> None:
    for position, arg in enumerate(rest, start=offset):
        name, equals, value = arg.partition("=")
        if name == "--output" and equals:
            f.text_path(value, "write")
            f.fact("file_write")
        elif arg in {"-o", "--output"} and sub in {
            "diff",
            "log",
            "show",
            "format-patch",
            "archive",
        }:
            f.arg(position + 1, "write")
            f.fact("file_write")


def _paths(f: Findings, offset: int, rest: Sequence[str]) -> None:
    """Pathspecs: everything after `--`, operands that are absolute or climb out, and the
    path of a `REV:path` (`git show HEAD:.env` prints that file)."""
    skip = False
    after_dashes = False
    for position, arg in enumerate(rest, start=offset):
        revision, colon, path = arg.partition(":")
        if colon and path and "://" not in arg and not arg.startswith("-") and "@" not in revision:
            f.text_path(path, "read")  # `HEAD:.env`, `:.env` (the index)
        if skip:
            skip = False
        elif arg == "--":
            after_dashes = True
        elif not after_dashes and arg.startswith("-"):
            skip = _takes_value(arg)
        elif "://" not in arg:
            # Revisions and pathspecs look alike (`main`, `src/app.py`): both are checked
            # as paths, which costs a revision nothing and catches `git blame .env`.
            f.arg(position, "arg")


def _mutation(f: Findings, rest: Sequence[str], positionals: Sequence[str]) -> None:
    f.fact("git_mutation", f"{f.command.text} (changes the repository)")


def _branch(f: Findings, rest: Sequence[str], positionals: Sequence[str]) -> None:
    mutating = names(
        "-d -D --delete -m -M --move -c -C --copy -u --set-upstream-to --unset-upstream "
        "--edit-description -f --force"
    )
    listing = names("-l --list -a --all -r --remotes --show-current -v -vv")
    if any(a in mutating or a.startswith("--set-upstream-to=") for a in rest):
        f.fact("git_mutation", f"{f.command.text} (changes branches)")
    elif positionals and not any(a in listing for a in rest):
        f.fact("git_mutation", f"{f.command.text} (creates a branch)")


def _tag(f: Findings, rest: Sequence[str], positionals: Sequence[str]) -> None:
    changing = any(a in {"-d", "--delete", "-a", "-s", "-f", "-m", "-F"} for a in rest)
    listing = any(a in {"-l", "--list", "-v", "--verify", "-n"} for a in rest)
    if changing or (positionals and not listing):
        f.fact("git_mutation", f"{f.command.text} (changes tags)")


def _listing(read: frozenset[str]) -> _Sub:
    """Subcommands that list without arguments and change things with most of them."""

    def handler(f: Findings, rest: Sequence[str], positionals: Sequence[str]) -> None:
        options = [a for a in rest if a.startswith("-") and a not in {"-v", "--verbose"}]
        if (positionals and positionals[0] not in read) or (not positionals and options):
            f.fact("git_mutation", f"{f.command.text} (changes the repository)")

    return handler


def _stash(f: Findings, rest: Sequence[str], positionals: Sequence[str]) -> None:
    action = positionals[0] if positionals else "push"
    if action in {"list", "show"}:
        return
    if action in {"drop", "clear"}:
        f.fact("git_discard", f"{f.command.text} (deletes stashed work)")
    f.fact("git_mutation", f"{f.command.text} (changes the working tree)")


def _config(f: Findings, rest: Sequence[str], positionals: Sequence[str]) -> None:
    reading = names(
        "--get --get-all --get-regexp --list -l --get-urlmatch --show-origin --show-scope "
        "--name-only"
    )
    if any(a in reading for a in rest) or positionals[:1] in (["get"], ["list"]):
        if any(_CREDENTIAL_KEY.search(p) for p in positionals):
            f.fact("secrets_read", f"{f.command.text} (reads credential settings)")
        return
    positionals = _config_positionals(rest)
    keys = [p for p in positionals if p not in {"set", "unset", "add"}]
    unsetting = any(a.startswith("--unset") for a in rest) or positionals[:1] == ["unset"]
    if len(keys) <= 1 and not unsetting:
        if keys and _CREDENTIAL_KEY.search(keys[0]):
            f.fact("secrets_read", f"{f.command.text} (reads credential settings)")
        return  # `git config user.name` reads one value
    key = keys[0].lower() if keys else ""
    if key in _HOOK_KEYS or runs_command(key, None):
        f.fact("git_hooks", f"{f.command.text} (a git setting that runs commands)")
    f.fact("git_mutation", f"{f.command.text} (changes git settings)")


_CONFIG_VALUES = names("-f --file --blob --type --default --value --url --comment")


def _config_positionals(rest: Sequence[str]) -> list[str]:
    """`git config -f .git/config core.pager x`: the file is an option's value, not a key."""
    found: list[str] = []
    skip = False
    for arg in rest:
        if skip:
            skip = False
        elif arg.startswith("-"):
            skip = arg in _CONFIG_VALUES
        else:
            found.append(arg)
    return found


def _reset(f: Findings, rest: Sequence[str], positionals: Sequence[str]) -> None:
    if any(a in {"--hard", "--merge", "--keep"} for a in rest):
        f.fact("git_discard", f"{f.command.text} (discards uncommitted changes)")
    f.fact("git_mutation", f"{f.command.text} (moves HEAD)")


def _checkout(f: Findings, rest: Sequence[str], positionals: Sequence[str]) -> None:
    if "--" in rest or "." in positionals or any(a in {"-f", "--force", "-p"} for a in rest):
        f.fact("git_discard", f"{f.command.text} (overwrites uncommitted changes)")
    f.fact("git_mutation", f"{f.command.text} (changes the working tree)")


def _restore(f: Findings, rest: Sequence[str], positionals: Sequence[str]) -> None:
    staged = any(a in {"--staged", "-S"} for a in rest)
    if not staged or any(a in {"--worktree", "-W"} for a in rest):
        f.fact("git_discard", f"{f.command.text} (overwrites uncommitted changes)")
    f.fact("git_mutation", f"{f.command.text} (changes the working tree)")


def _clean(f: Findings, rest: Sequence[str], positionals: Sequence[str]) -> None:
    if any(a in {"-n", "--dry-run"} for a in rest):
        return
    f.fact("git_discard", f"{f.command.text} (deletes untracked files)")
    f.fact("git_mutation")


def _push(f: Findings, rest: Sequence[str], positionals: Sequence[str]) -> None:
    refspecs = positionals[1:]
    letters = "".join(a[1:] for a in rest if a.startswith("-") and not a.startswith("--"))
    forced = "f" in letters or any(a.split("=", 1)[0] in _FORCE for a in rest)
    if forced or any(r.startswith("+") for r in refspecs):
        f.fact("force_push", f"{f.command.text} (overwrites remote history)")
    elif "d" in letters or "--delete" in rest or any(r.startswith(":") for r in refspecs):
        f.fact("force_push", f"{f.command.text} (deletes a remote branch)")
    f.fact("git_mutation", f"{f.command.text} (publishes commits)")


def _clone(f: Findings, rest: Sequence[str], positionals: Sequence[str]) -> None:
    if len(positionals) >= 2:
        f.text_path(positionals[1], "write")
    f.fact("git_mutation", f"{f.command.text} (creates a repository)")


def _reflog(f: Findings, rest: Sequence[str], positionals: Sequence[str]) -> None:
    if positionals[:1] in (["expire"], ["delete"]):
        f.fact("git_discard", f"{f.command.text} (drops recovery history)")
        f.fact("git_mutation")


def _rm(f: Findings, rest: Sequence[str], positionals: Sequence[str]) -> None:
    if not any(a in {"--cached", "-n", "--dry-run"} for a in rest):
        f.fact("file_delete")
    f.fact("git_mutation", f"{f.command.text} (removes tracked files)")


def _archive(f: Findings, rest: Sequence[str], positionals: Sequence[str]) -> None:
    if any(a.startswith("--remote") for a in rest):
        f.fact("network")


_SUBCOMMANDS: dict[str, _Sub] = {
    "branch": _branch,
    "tag": _tag,
    "stash": _stash,
    "remote": _listing(names("show get-url")),
    "worktree": _listing(names("list")),
    "notes": _listing(names("list show")),
    "submodule": _listing(names("status summary")),
    "lfs": _listing(names("ls-files status env version logs")),
    "config": _config,
    "reset": _reset,
    "checkout": _checkout,
    "restore": _restore,
    "clean": _clean,
    "push": _push,
    "clone": _clone,
    "reflog": _reflog,
    "rm": _rm,
    "archive": _archive,
    "bisect": _mutation,
}
