"""Reads of a whole tree, checked against what is really on disk.

`grep -rn TODO src`, `rg key`, `find src -exec cat {} +`, `find | xargs cat`,
`tar -c src`, `cp -r src x`, `diff -r a b`, `git grep x`, `ack x` and the Grep
and Glob tools read every file under a directory. The sandbox checks the
directory's own path; this module walks
the tree the way the program would (which names it skips, which links it
follows) and reports the first credential file it would read, or the first
link it would follow out of the approved directories. Glob returns names, not
contents, so for it only such links count.

It runs at the sandbox stage, never inside the cached classification: the
answer depends on the file system. The walk is bounded in entries and time;
past the bound the call is not vouched for and the reason says so. A walk cut
by time is walked once more first: the clock also runs while the whole process
is paused (a full garbage collection of a large heap takes hundreds of
milliseconds, and so can a busy machine), and such a pause rarely comes twice
in a row, while a tree that is really slow to list is slow both times.

Results are cached per (root, walk) with the modification time of every
directory the walk visited. Safety argument: whether a walk finds something
depends only on names and link targets, and creating, removing or renaming a
name (a file, a directory or a link) changes the mtime of the directory that
holds it; links are followed only into directories that are themselves
visited, so their mtimes are in the record too. A hit re-stats every recorded
directory, so an unchanged tree costs one `stat` per directory instead of a
listing. A tree whose directories changed within the last two seconds is not
cached, because a coarse file-system clock could give a later change the same
mtime.
"""

from __future__ import annotations

import os
import re
import shlex
import stat
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from itertools import pairwise
from typing import NamedTuple

from tether.core.safety.registry import REGISTRY, commands_given_as_words
from tether.core.safety.shell_glob import Reading, matcher

__all__ = [
    "WALKING_PROGRAMS",
    "WALKING_TOOLS",
    "CallWalks",
    "TreeReads",
    "Walk",
    "may_walk",
    "walk_of",
]

_RECENT_NS = 2_000_000_000
"""Directories changed this recently are not cached (file-system clock granularity)."""
_CACHE_SIZE = 256


class Walk(NamedTuple):
    """How one program walks a tree.

    A named tuple: one is made for each part that reads a tree, and the walk caches
    hash it as a key (`CallWalks`, `TreeReads`); a frozen dataclass took four times a
    tuple's instructions to build, and hashed in Python.
    """

    contents: bool
    """It reads file contents (credential files count), not only names."""
    follow: str
    """Links followed below the roots: "all", "files" (links to files only) or "none"."""
    hidden: bool = True
    """It visits names starting with a dot (ripgrep skips them by default)."""
    include: tuple[str, ...] = ()
    """Base-name patterns a file must match to be read (`grep --include`); empty: all."""
    exclude: tuple[str, ...] = ()
    exclude_dirs: tuple[str, ...] = ()


@cache
def _valued(program: str, *subcommand: str) -> tuple[frozenset[str], frozenset[str]]:
    """The short letters and long options that take a value, as the program's spec says.

    Read when a call first needs them, not at import: compiling the specs (git's above
    all) is a good part of start-up, and most runs walk no tree with most of them.
    """
    node = REGISTRY[program]
    for name in subcommand:
        node = node.subs[name]
    return node.parsing.short_values, node.parsing.long_values


@cache
def _find_exec() -> frozenset[str]:
    """find's options followed by a command's words (`-exec`), read when first needed."""
    return commands_given_as_words("find")


_COMPRESSORS = "gzip gunzip bzip2 bunzip2 xz unxz zstd unzstd lz4 lzma unlzma compress uncompress"


def _words(text: str) -> list[str] | None:
    if text.isascii() and not _QUOTING_OR_ODD_SPACE.search(text):
        # Without quotes or backslashes, shlex's POSIX split (no comments) is a split
        # at its four whitespace characters; in ASCII text without the six others that
        # `str.split` splits at (\v, \f, \x1c-\x1f), that is `str.split`'s.
        return text.split()[1:]
    if not _QUOTING.search(text):
        # The same split, at shlex's four whitespace characters alone.
        return [word for word in _SHLEX_SPACE.split(text) if word][1:]
    try:
        return shlex.split(text)[1:]
    except ValueError:
        return None


_QUOTING = re.compile(r"['\"\\]")
_QUOTING_OR_ODD_SPACE = re.compile(r"['\"\\\x0b\x0c\x1c-\x1f]")
_SHLEX_SPACE = re.compile("[ \t\r\n]+")


def _short_flags(
    words: Sequence[str], valued: frozenset[str], valued_longs: frozenset[str] = frozenset()
) -> tuple[str, dict[str, str]]:
    """The letters of bundled short options, and the options with their values.

    An option that takes a value takes the rest of its word, or the next word
    (`-e -r` searches for "-r"; it does not recurse). A short option's value is
    kept under its letter (`-drecurse`, `-id recurse`: "-d" holds "recurse"),
    a long option's under its name.
    """
    letters: list[str] = []
    longs: dict[str, str] = {}
    index = 0
    while index < len(words):
        word = words[index]
        index += 1
        if word == "--":
            break
        if word.startswith("--"):
            name, equals, value = word.partition("=")
            if not equals and name in valued_longs and index < len(words):
                value = words[index]
                index += 1
            longs[name] = longs.get(name, "") + value + "\0"
        elif word.startswith("-") and len(word) > 1:
            for position, letter in enumerate(word[1:], start=2):
                letters.append(letter)
                if letter in valued:
                    value = word[position:]
                    if not value and index < len(words):
                        value = words[index]  # the value is the next word
                        index += 1
                    key = "-" + letter
                    longs[key] = longs.get(key, "") + value + "\0"
                    break
    return "".join(letters), longs


def _count(longs: dict[str, str], name: str) -> int:
    """How often a long option without a value was given (`_short_flags` keeps one `\\0` each)."""
    return longs.get(name, "").count("\0")


def _values(longs: dict[str, str], name: str) -> tuple[str, ...]:
    return tuple(v for v in longs.get(name, "").split("\0") if v)


_NOT_RECURSING = frozenset({"read", "skip"})
"""The values of grep's `--directories` that read no tree (any other recurses, or is refused)."""


def _grep(words: list[str]) -> Walk | None:
    letters, longs = _short_flags(words, *_valued("grep"))
    recurse_all = "R" in letters or "--dereference-recursive" in longs
    recursive = recurse_all or "r" in letters or "--recursive" in longs
    if not recursive and ("-d" in longs or "--directories" in longs):
        # `-d recurse` is `-r`; grep also takes a unique abbreviation (`-d rec`), so every
        # value but the two that do not recurse counts as recursing.
        directories = (*_values(longs, "-d"), *_values(longs, "--directories"))
        recursive = any(v not in _NOT_RECURSING for v in directories)
    if not recursive:
        return None
    return Walk(
        contents=True,
        follow="all" if recurse_all else "none",
        include=_values(longs, "--include"),
        exclude=_values(longs, "--exclude"),
        exclude_dirs=_values(longs, "--exclude-dir"),
    )


def _diff(words: list[str]) -> Walk | None:
    letters, longs = _short_flags(words, *_valued("diff"))
    if "r" not in letters and "--recursive" not in longs:
        return None
    # diff compares what links point to unless told not to; its `--exclude` patterns
    # are not applied here, which can only make a call ask.
    return Walk(contents=True, follow="none" if "--no-dereference" in longs else "all")


def _ack(words: list[str]) -> Walk:
    # ack searches the working directory's tree when no path is given, and descends
    # even with `-n` (which only stops below the first level): always a walk.
    _, longs = _short_flags(words, *_valued("ack"))
    follow = "--follow" in longs and "--nofollow" not in longs
    return Walk(contents=True, follow="all" if follow else "none")


def _ag(words: list[str]) -> Walk:
    # Like ripgrep, ag skips hidden names unless `--hidden` or `-u` says otherwise.
    letters, longs = _short_flags(words, *_valued("ag"))
    hidden = "u" in letters or "--hidden" in longs or "--unrestricted" in longs
    follow = "f" in letters or "--follow" in longs
    return Walk(contents=True, follow="all" if follow else "none", hidden=hidden)


def _compressor(words: list[str]) -> Walk | None:
    """`gzip -rc src` prints every file under src, compressed (and `gunzip -rcf` as it is)."""
    letters, longs = _short_flags(words, *_valued("gzip"))
    if "r" not in letters and "--recursive" not in longs:
        return None
    return Walk(contents=True, follow="all")


def _git(words: list[str], piped: bool) -> Walk | None:
    walk = _git_subcommand(words)
    if walk is None and piped:
        # `git ls-files | xargs cat`: git lists files of the tree (tracked ones, or
        # `-o` the others; `status`, `diff --name-only` and `log --name-only` list
        # names too) and xargs reads them, through links to files.
        return Walk(contents=True, follow="files")
    return walk


def _git_subcommand(words: list[str]) -> Walk | None:
    """`git grep` and `git diff` of two paths: git's global options, then the subcommand."""
    valued, valued_longs = _valued("git")
    index = 0
    while index < len(words) and words[index].startswith("-") and words[index] != "--":
        word = words[index]
        index += 1
        takes_value = (word[1:] in valued and len(word) == 2) or (
            "=" not in word and word in valued_longs
        )
        if takes_value:
            index += 1  # `-C dir`, `-c key=value`, `--git-dir dir`
    if index >= len(words):
        return None
    subcommand, rest = words[index], words[index + 1 :]
    if subcommand == "grep":
        _, longs = _short_flags(rest, *_valued("git", "grep"))
        # Without --no-index or --untracked git greps the tracked files only; but a
        # tracked `.env` is still a credential file in the tree, and which files are
        # tracked is not read here: the walk counts every file, which can only ask.
        # A tracked link is never followed; an untracked one may be.
        tracked = "--no-index" not in longs and "--untracked" not in longs
        return Walk(contents=True, follow="none" if tracked else "all")
    if subcommand == "diff" and ("--no-index" in rest or _two_operands(rest)):
        # `--no-index` compares two paths as `diff -r` would; so does a diff of two
        # paths outside a repository or outside its working tree, which is not read
        # here: any two operands count (revisions name no directory, so they walk
        # nothing).
        return Walk(contents=True, follow="all")
    return None


def _two_operands(words: list[str]) -> bool:
    """Whether `git diff`'s words hold exactly two operands (options and their values aside)."""
    valued, valued_longs = _valued("git", "diff")
    operands = 0
    index = 0
    while index < len(words):
        word = words[index]
        index += 1
        if word == "--":
            operands += len(words) - index
            break
        if word.startswith("-") and len(word) > 1:
            if len(word) == 2 and word[1] in valued:
                index += 1  # `-U 3`: the next word is the value
            elif "=" not in word and word in valued_longs:
                index += 1
            continue
        operands += 1
    return operands == 2


def _rg(words: list[str]) -> Walk:
    letters, longs = _short_flags(words, *_valued("rg"))
    # Each `-u` or `--unrestricted` raises the level: 1 reads ignored files, 2 hidden ones.
    unrestricted = letters.count("u") + _count(longs, "--unrestricted")
    hidden = "." in letters or "--hidden" in longs or unrestricted >= 2
    follow = "L" in letters or "--follow" in longs
    # .gitignore is not read here: a name ripgrep would skip as ignored still counts,
    # which can only make a call ask, never allow.
    return Walk(contents=True, follow="all" if follow else "none", hidden=hidden)


def _find(words: list[str], piped: bool) -> Walk | None:
    runs = not _find_exec().isdisjoint(words)
    if not runs and not piped:
        return None
    follow = any(w in {"-L", "-follow"} for w in words)
    # Without -L, find reports a link as a link: `cat {}` still reads through a link to a
    # file unless `-type f` leaves links out. It does only in a plain conjunction: with
    # `-o`, `!`, `-not`, parentheses or `,` the action may run on what `-type f` did not
    # pass (`-type f -o -type l -exec cat {} +`, `-not -type f`).
    # The test must come before every action, too (`-print -type f` prints all).
    only_files = False
    if _FIND_NOT_PLAIN.isdisjoint(words):
        actions = _find_exec() | _FIND_PRINTS
        for word, following in pairwise(words):
            if word in actions:
                break
            if word == "-type" and following == "f":
                only_files = True
                break
    return Walk(contents=True, follow="all" if follow else ("none" if only_files else "files"))


_FIND_NOT_PLAIN = frozenset({"-o", "-or", "!", "-not", "(", ")", ","})
"""find's operators that make an expression more than a conjunction of its tests."""
_FIND_PRINTS = frozenset(
    {"-print", "-print0", "-printf", "-fprint", "-fprint0", "-fprintf", "-ls", "-fls"}
)
"""find's actions that hand names on (those that run a command are `_find_exec`)."""


def _fd(words: list[str], piped: bool) -> Walk | None:
    letters, longs = _short_flags(words, *_valued("fd"))
    runs = bool({"x", "X"} & set(letters)) or bool({"--exec", "--exec-batch"} & longs.keys())
    if not runs and not piped:
        return None
    # `-u`/`--unrestricted` is `--hidden --no-ignore`.
    hidden = "H" in letters or "u" in letters or "--hidden" in longs or "--unrestricted" in longs
    follow = "L" in letters or "--follow" in longs
    return Walk(contents=True, follow="all" if follow else "none", hidden=hidden)


def _tar(words: list[str]) -> Walk | None:
    first = words[0] if words else ""
    letters, longs = _short_flags(
        ["-" + first if first[:1] not in {"-", ""} else first], frozenset()
    )
    rest_letters, rest_longs = _short_flags(words[1:], *_valued("tar"))
    letters += rest_letters
    longs.update(rest_longs)
    if "c" not in letters and "--create" not in longs and "r" not in letters:
        return None
    follow = "h" in letters or "--dereference" in longs
    return Walk(contents=True, follow="all" if follow else "none")


def _copy(words: list[str], recursive_letters: str, follow_letters: str) -> Walk | None:
    letters, longs = _short_flags(words, frozenset())
    if not any(letter in letters for letter in recursive_letters) and not (
        {"--recursive", "--archive"} & longs.keys()
    ):
        return None
    follow = any(letter in letters for letter in follow_letters) or bool(
        {"--dereference", "--copy-links"} & longs.keys()
    )
    return Walk(contents=True, follow="all" if follow else "none")


def _zip(words: list[str]) -> Walk | None:
    letters, longs = _short_flags(words, *_valued("zip"))
    if "r" not in letters and "--recurse-paths" not in longs:
        return None
    # zip follows links unless told to store them (-y).
    keep_links = "y" in letters or "--symlinks" in longs
    return Walk(contents=True, follow="none" if keep_links else "all")


def walk_of(tool_name: str, program: str | None, text: str, piped: bool) -> Walk | None:
    """How a call part walks a tree, or None when it reads no whole tree.

    `piped`: the line hands a list of files to `xargs` (`find src | xargs cat`).
    """
    if program is None:
        if tool_name == "Grep":
            return Walk(contents=True, follow="all")
        if tool_name == "Glob":
            return Walk(contents=False, follow="all")
        return None
    if not may_walk(tool_name, program, text, piped):
        return None
    handler = _PROGRAMS[program]
    words = _words(text)
    if words is None:
        return Walk(contents=True, follow="all")  # not read: walk as the widest reader would
    return handler(words, piped)


_GIT_MAY_WALK = re.compile(r"grep|diff|['\"\\]")


def _option_with(letters: str) -> re.Pattern[str]:
    """Text with a quote or a backslash, or a word starting with `-` that holds one of
    `letters` (words are split at shlex's whitespace, as `_words` splits them)."""
    return re.compile(rf"['\"\\]|(?:^|[ \t\r\n])-[^ \t\r\n]*[{letters}]")


# Programs that walk only when an option says so (`_grep`, `_diff`, `_compressor`, `_zip`,
# `_copy`): each such option is a word starting with `-` (a bundle of letters or a long
# name) that holds one of these letters: `-r`, `-R`, `-d recurse`, `--recursive`,
# `--directories`, `--dereference-recursive`; `-a`, `--archive`; `--recurse-paths`.
_GREP_MAY_WALK = _option_with("rRd")
_R_MAY_WALK = _option_with("r")
_OPTION_MAY_WALK: dict[str, re.Pattern[str]] = {
    **dict.fromkeys(("grep", "egrep", "fgrep", "ggrep", "zgrep"), _GREP_MAY_WALK),
    **dict.fromkeys(("diff", "gdiff", "colordiff", "zip", *_COMPRESSORS.split()), _R_MAY_WALK),
    **dict.fromkeys(("cp", "gcp"), _option_with("rRa")),
    "rsync": _option_with("ra"),
}


def may_walk(tool_name: str, program: str | None, text: str, piped: bool) -> bool:
    """Whether `walk_of` may find a walk for this part: False only where it surely finds none.

    Decided without reading the call's words, so the pipeline can skip its path steps for
    parts that walk nothing (`git status`, `grep -v x`) as cheaply as for programs that
    never walk.
    """
    if program is None:
        return tool_name in WALKING_TOOLS
    if program not in _PROGRAMS:
        return False
    if program == "git":
        # Most git calls (`git status`, `git log`) walk nothing, and without these letters,
        # or a quote or backslash that could spell them, no word of the call is `grep` or
        # `diff`; a git listing handed to `xargs` is read from the tree whatever it says.
        return piped or _GIT_MAY_WALK.search(text) is not None
    # A filter (`| grep -v x`, `| diff - b`) names no option that recurses.
    needs = _OPTION_MAY_WALK.get(program)
    return needs is None or needs.search(text) is not None


_PROGRAMS: dict[str, Callable[[list[str], bool], Walk | None]] = {
    "grep": lambda w, _: _grep(w),
    "egrep": lambda w, _: _grep(w),
    "fgrep": lambda w, _: _grep(w),
    "ggrep": lambda w, _: _grep(w),
    "zgrep": lambda w, _: _grep(w),
    "rg": lambda w, _: _rg(w),
    "ripgrep": lambda w, _: _rg(w),
    "ack": lambda w, _: _ack(w),
    "ack-grep": lambda w, _: _ack(w),
    "ag": lambda w, _: _ag(w),
    "diff": lambda w, _: _diff(w),
    "gdiff": lambda w, _: _diff(w),
    "colordiff": lambda w, _: _diff(w),
    "git": _git,
    "find": _find,
    "gfind": _find,
    "fd": _fd,
    "fdfind": _fd,
    "tar": lambda w, _: _tar(w),
    "bsdtar": lambda w, _: _tar(w),
    "gtar": lambda w, _: _tar(w),
    "cp": lambda w, _: _copy(w, "rRa", "L"),
    "gcp": lambda w, _: _copy(w, "rRa", "L"),
    "rsync": lambda w, _: _copy(w, "ra", "L"),
    "zip": lambda w, _: _zip(w),
    **dict.fromkeys(_COMPRESSORS.split(), lambda w, _: _compressor(w)),
}
"""Programs that may read a whole tree, and how their options say they walk it (every
name the registry gives the same spec is listed: the tests hold it so)."""

WALKING_PROGRAMS = frozenset(_PROGRAMS)
"""The programs `walk_of` may find a walk for (for any other, it finds none)."""
WALKING_TOOLS = frozenset({"Grep", "Glob"})
"""The tools `walk_of` finds a walk for when the part has no program."""


@dataclass(frozen=True, slots=True)
class _Record:
    finding: str | None
    directories: tuple[tuple[str, int], ...]
    plain: bool = False
    """Each directory was listed once, reached from its parent's listing: no link to a
    directory followed, none reached twice, none that could not be looked at. The walk
    from any directory listed then lists just the part below it, by the same names."""


_NOTHING = _Record(None, ())
"""No directory there: nothing to walk (the sandbox checked the name itself)."""


class CallWalks:
    """What the tree reads of one call found, for the same call's other tree reads.

    `git ls-files | xargs wc -l && git log -- . | cut …` reads the working tree from
    two parts, and one read's roots may lie inside a tree another already walked: with
    this, each is listed once per call. Make one per call and drop it with the call:
    nothing in it is checked against the file system again, and between two calls the
    tree can change.
    """

    __slots__ = ("_kinds",)

    def __init__(self) -> None:
        self._kinds: dict[tuple[Walk, tuple[str, ...]], tuple[dict[str, _Record], set[str]]] = {}

    def of(self, walk: Walk, approved: tuple[str, ...]) -> tuple[dict[str, _Record], set[str]]:
        """For one kind of walk: its records by root, and the directories listed by its
        plain walks that found nothing."""
        kind = self._kinds.get((walk, approved))
        if kind is None:
            kind = self._kinds[walk, approved] = ({}, set())
        return kind


class _BoundError(Exception):
    pass


class _OutOfTimeError(_BoundError):
    """The walk's clock ran out (`TreeReads._walk` walks once more before it gives up)."""


class TreeReads:
    """Walks trees for the sandbox stage, bounded and cached.

    Args:
        credential_reason: what secret a path holds, or None (`PathAnalyzer.credential_reason`).
        max_entries: directory entries one walk may look at.
        max_seconds: time one walk may take.
    """

    def __init__(
        self,
        credential_reason: Callable[[str], str | None],
        *,
        max_entries: int = 20_000,
        max_seconds: float = 0.25,
    ) -> None:
        self._credential = credential_reason
        self._max_entries = max_entries
        self._max_seconds = max_seconds
        self._cache: OrderedDict[tuple[object, ...], _Record] = OrderedDict()

    def check(
        self,
        walk: Walk,
        roots: Sequence[str],
        approved: Sequence[str],
        call: CallWalks | None = None,
    ) -> str | None:
        """The first reason this tree read cannot be vouched for, or None.

        `call`: what this call's other tree reads found (`CallWalks`); without it, only
        the roots of this read share what their walks found.
        """
        kept = tuple(approved)
        if call is None:
            if len(roots) == 1:
                return self._record(walk, roots[0], kept).finding  # nothing to share
            call = CallWalks()
        records, clean = call.of(walk, kept)
        for root in dict.fromkeys(roots):
            if root in clean:
                # Listed by a plain walk of this call that found nothing: the walk from
                # here is part of that one, so it finds nothing either.
                continue
            record = records.get(root)
            if record is None:
                record = records[root] = self._record(walk, root, kept)
                if record.finding is None and record.plain:
                    clean.update([path for path, _ in record.directories])
            if record.finding is not None:
                return record.finding
        return None

    def clear(self) -> None:
        """Forget every kept walk: the next tree read walks again."""
        self._cache.clear()

    def _record(self, walk: Walk, root: str, approved: tuple[str, ...]) -> _Record:
        """What a walk from `root` finds: kept while the tree is unchanged, or walked."""
        key = (walk, root, approved)
        record = self._cache.get(key)
        if record is None or not _unchanged(record.directories):
            record = self._walk(walk, root, approved)
            self._remember(key, record)
        return record

    def _remember(self, key: tuple[object, ...], record: _Record) -> None:
        now = time.time_ns()
        if not record.directories or any(
            now - mtime < _RECENT_NS for _, mtime in record.directories
        ):
            self._cache.pop(key, None)
            return
        self._cache[key] = record
        self._cache.move_to_end(key)
        while len(self._cache) > _CACHE_SIZE:
            self._cache.popitem(last=False)

    def _walk(self, walk: Walk, root: str, approved: Sequence[str]) -> _Record:
        try:
            info = os.stat(root)  # noqa: PTH116 - no Path objects on the gate's hot path
        except OSError:
            return _NOTHING  # nothing there to read (the sandbox checked the name)
        if not stat.S_ISDIR(info.st_mode):
            return _NOTHING  # one file: the sandbox already checked it
        directories: list[tuple[str, int]] = []
        try:
            try:
                finding, plain = self._scan(walk, root, info, approved, directories)
            except _OutOfTimeError:
                # Perhaps the process was paused, not the tree slow: a second walk,
                # from scratch, decides (the module's docstring says why).
                directories.clear()
                finding, plain = self._scan(walk, root, None, approved, directories)
        except _BoundError as bound:
            return _Record(str(bound), ())
        return _Record(finding, tuple(directories), plain)

    def _scan(
        self,
        walk: Walk,
        root: str,
        info: os.stat_result | None,
        approved: Sequence[str],
        directories: list[tuple[str, int]],
    ) -> tuple[str | None, bool]:
        """The first finding below `root`, and whether the walk was plain (`_Record`).

        `info`: the root's `stat`, taken by the caller (each other directory is looked
        at when its turn comes).
        """
        deadline = time.monotonic() + self._max_seconds
        entries = 0
        plain = True
        seen: set[tuple[int, int]] = set()
        pending = [root]
        linked: list[str] = []  # the links to directories followed
        while pending:
            directory = pending.pop()
            if info is None:
                try:
                    info = os.stat(directory)  # noqa: PTH116
                except OSError:
                    plain = False  # gone since it was listed: what it holds is unknown
                    continue
            identity = (info.st_dev, info.st_ino)
            mtime = info.st_mtime_ns
            info = None
            if identity in seen:
                plain = False
                continue  # a link loop, or a directory reached twice
            seen.add(identity)
            directories.append((directory, mtime))
            try:
                with os.scandir(directory) as listing:
                    found = list(listing)
            except PermissionError:
                # The program could not read it either; but what it holds is unknown.
                raise _BoundError(
                    f"{directory} cannot be listed, so what it holds is unknown"
                ) from None
            except OSError:
                plain = False
                continue
            entries += len(found)
            if entries > self._max_entries:
                raise _BoundError(
                    f"{root} has more than {self._max_entries} entries, too many to check"
                )
            if time.monotonic() > deadline:
                raise _OutOfTimeError(
                    f"{root} took longer than {self._max_seconds * 1000:g} ms to check"
                )
            finding = self._entries(walk, directory, found, approved, pending, linked)
            if finding is not None:
                return finding, plain
        return None, plain and not linked

    def _entries(
        self,
        walk: Walk,
        directory: str,
        found: list[os.DirEntry[str]],
        approved: Sequence[str],
        pending: list[str],
        linked: list[str],
    ) -> str | None:
        """The first finding among one directory's entries; the directories to walk next
        are added to `pending` (and to `linked` when reached through a link)."""
        where: tuple[str | None, str] | None = None
        for entry in found:
            name = entry.name
            if not walk.hidden and name.startswith("."):
                continue
            try:
                link = entry.is_symlink()
                if link and walk.follow == "none":
                    continue  # not followed, whatever it points to
                # From the listing's file type, without a `stat`, but for a link.
                is_dir = entry.is_dir()
            except OSError:
                continue
            if (
                is_dir
                and walk.exclude_dirs
                and any(_matches(name, p, Reading.NARROW) for p in walk.exclude_dirs)
            ):
                continue
            if link:
                if walk.follow == "files" and is_dir:
                    continue
                target = os.path.realpath(entry.path)
                if not _inside(target, approved):
                    return f"{entry.path} is a link to {target}, outside the approved directories"
                if is_dir:
                    pending.append(target)
                    linked.append(target)
                elif _reads(walk, name):
                    reason = self._credential(target)
                    if reason is not None:
                        return _found(entry.path, reason)
            elif is_dir:
                pending.append(entry.path)
            elif _reads(walk, name):
                if where is None:
                    # A file is judged by its name and two parent directories (the longest
                    # credential path pattern, `.config/gh/hosts.yml`); the directory's own
                    # path once (`.aws/…`, `.mozilla/…`): a short string is much cheaper to
                    # test. Only for a directory with a file to read.
                    where = (
                        self._credential(directory + "/x"),
                        "/".join(directory.rsplit("/", 2)[-2:]) + "/",
                    )
                held, tail = where
                reason = held or self._credential(tail + name)
                if reason is not None:
                    return _found(entry.path, reason)
        return None


def _reads(walk: Walk, name: str) -> bool:
    """Whether the program opens a file of this name (`--include`, `--exclude`)."""
    if not walk.contents:
        return False
    # What a pattern surely excludes and what it may include: a pattern whose meaning the
    # locale decides (`[[=e=]]`) then reads more files, never fewer.
    if walk.include and not any(_matches(name, p, Reading.WIDE) for p in walk.include):
        return False
    return not any(_matches(name, p, Reading.NARROW) for p in walk.exclude)


def _matches(name: str, pattern: str, reading: Reading) -> bool:
    """Whether grep's glibc `fnmatch` matches `name` (a backslash quotes, and a leading dot
    needs no dot) with `pattern`, in a reading (`shell_glob`)."""
    return matcher(pattern, reading, escapes=True)(name) is not None


def _found(path: str, reason: str | None) -> str | None:
    return None if reason is None else f"{path} is inside the tree it reads ({reason})"


def _unchanged(directories: Sequence[tuple[str, int]]) -> bool:
    for path, mtime in directories:
        try:
            if os.stat(path).st_mtime_ns != mtime:  # noqa: PTH116
                return False
        except OSError:
            return False
    return True


def _inside(path: str, directories: Sequence[str]) -> bool:
    return any(path == d or path.startswith(d.rstrip("/") + "/") for d in directories)
