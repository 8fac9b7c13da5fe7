"""SandboxEnforcer: is this path inside an approved directory?

A path is resolved the way the system would open it: `~` expanded, relative
to the session's working directory, `..` applied, and every symlink on the way
followed (the file system is asked each time, so a symlink changed since the
last call is seen). It is allowed only when the result is an approved
directory or inside one.

Two narrow exceptions, both explicit: a shell command may use the harmless
devices (`/dev/null`, `/dev/stdout`...), and the file tools may use Claude
Code's plan directory (`~/.claude/plans`), where plan mode writes its plans.
Nothing else outside the approved directories is reachable.
"""

from __future__ import annotations

import itertools
import os
import posixpath
from collections.abc import Iterator, Sequence
from pathlib import Path
from stat import S_ISLNK
from typing import NamedTuple

from tether.core.safety.shell_glob import Reading, matcher

__all__ = [
    "CLAUDE_PLANS_DIRECTORY",
    "HARMLESS_DEVICES",
    "UNREADABLE_LINK",
    "PathVerdict",
    "SandboxEnforcer",
    "probe",
]

CLAUDE_PLANS_DIRECTORY = "~/.claude/plans"
"""Where Claude Code's plan mode keeps plans; the file tools may use it."""

HARMLESS_DEVICES = frozenset(
    {
        "/dev/null",
        "/dev/stdin",
        "/dev/stdout",
        "/dev/stderr",
        "/dev/tty",
        "/dev/zero",
        "/dev/random",
        "/dev/urandom",
        "/dev/fd/0",
        "/dev/fd/1",
        "/dev/fd/2",
    }
)
"""Devices a shell command may name: they hold no data and change nothing."""

_ENVIRON = os.environ
_ENVIRON_DATA: dict[bytes, bytes] | None = getattr(os.environ, "_data", None)
"""Where `os.environ` keeps the environment, encoded (None where it keeps it elsewhere)."""

_MAX_SYMLINKS = 40
_MAX_GLOB_MATCHES = 256


class PathVerdict(NamedTuple):
    """One path checked: as given, what it resolved to, and whether it may be used.

    A named tuple: the sandbox makes one per path on every call, and only the
    pipeline reads them; a tuple is built in a third of a frozen dataclass's time.
    """

    path: str
    resolved: str | None
    allowed: bool
    reason: str | None = None


_tuple_new = tuple.__new__


class SandboxEnforcer:
    """Checks that paths resolve inside the approved directories.

    Args:
        approved_directories: where the agent may work.
        state_directories: directories outside those that the file tools may
            use too (default: Claude Code's plan directory).
        home: the home directory `~` means (default: `$HOME`).
        protected: Tether's own files and directories (audit log, session store,
            log directory, policy files): never usable by the agent, even inside
            an approved directory, so it cannot rewrite its own record.
    """

    def __init__(
        self,
        approved_directories: Sequence[Path | str],
        *,
        state_directories: Sequence[str] = (CLAUDE_PLANS_DIRECTORY,),
        home: Path | str | None = None,
        protected: Sequence[Path | str] = (),
    ) -> None:
        if not approved_directories:
            raise ValueError("the sandbox needs at least one approved directory")
        self._given = tuple(str(d) for d in approved_directories)
        self._state_given = tuple(state_directories)
        self._home_given = str(home) if home is not None else None
        self._approved: tuple[str, ...] | None = None
        self._state: tuple[str, ...] = ()
        self._protected_given = tuple(str(p) for p in protected)
        self._protected: tuple[str, ...] = ()
        self._probes: list[tuple[str, str | None]] | None = None
        self._home_seen: tuple[bytes | None, str] = (None, "")
        # Set with the approved directories, once: each list as a set of the
        # directories themselves and a tuple of their prefixes ("dir/"), so that
        # "inside" is one set lookup and one `startswith`.
        self._approved_inside: _Inside = (frozenset(), ())
        self._state_inside: _Inside = (frozenset(), ())
        self._protected_inside: _Inside = (frozenset(), ())
        self._protected_apart = False
        self._default_directory: PathVerdict | None = None
        self._described = ""
        """The approved directories as a deny's reason names them."""

    @property
    def approved_directories(self) -> tuple[str, ...]:
        """The approved directories, resolved."""
        if self._approved is None:
            # Resolved on first use, not in __init__: resolving asks the file system.
            approved = tuple(dict.fromkeys(os.path.realpath(d) for d in self._given))
            # The state directories are taken literally under the real home: if one is a
            # symlink, what it points to is not thereby opened.
            home = os.path.realpath(self.home)
            self._state = tuple(
                posixpath.join(home, d[2:]) if d.startswith("~/") else posixpath.normpath(d)
                for d in self._state_given
            )
            self._protected = tuple(
                dict.fromkeys(os.path.realpath(Path(p).expanduser()) for p in self._protected_given)
            )
            self._approved_inside = _inside_test(approved)
            self._state_inside = _inside_test(self._state)
            self._protected_inside = _inside_test(self._protected)
            # Whether no protected path is an approved directory, inside one or around
            # one: then a path inside an approved directory is never protected.
            # (Two directories holding one path are one inside the other.)
            self._protected_apart = not any(
                _is_inside(p, self._approved_inside) for p in self._protected
            ) and not any(_is_inside(d, self._protected_inside) for d in approved)
            self._described = ", ".join(approved)
            self._approved = approved  # last: the rest is ready once this is set
        return self._approved

    @property
    def home(self) -> str:
        """The home directory `~` means: the one given, else `$HOME` as it is now."""
        if self._home_given:
            return self._home_given
        # Asked on every call (a verdict is kept per home), so read where `os.environ`
        # keeps it: its mapping of encoded names and values, which every change made
        # through `os.environ` updates. The value seen is normalised once per value.
        if os.environ is _ENVIRON and _ENVIRON_DATA is not None:
            raw = _ENVIRON_DATA.get(b"HOME")
            if raw is not None and raw == self._home_seen[0]:
                return self._home_seen[1]
        raw = os.environb.get(b"HOME") if os.environ is _ENVIRON else None
        text = os.environ.get("HOME")
        if text is None:
            return str(Path.home())
        home = str(Path.home())
        self._home_seen = (raw, home)
        return home

    def working_directory(self, cwd: Path | str | None) -> PathVerdict:
        """The session's working directory resolved and checked (None: the first approved)."""
        if cwd is None and self._default_directory is not None:
            return self._default_directory  # (most calls: no directory given)
        approved = self.approved_directories
        if cwd is None:
            # The first approved directory, resolved once: it is never looked up again.
            self._default_directory = PathVerdict(approved[0], approved[0], True)
            return self._default_directory
        text = str(cwd)
        resolved = self.resolve(text, approved[0])
        if resolved is None or not _is_inside(resolved, self._approved_inside):
            return PathVerdict(
                path=text,
                resolved=resolved,
                allowed=False,
                reason=f"the working directory {text!r} is outside the approved directories "
                f"({self._describe()})",
            )
        return PathVerdict(path=text, resolved=resolved, allowed=True)

    def resolve(self, path: str, base: str) -> str | None:
        """`path` resolved against the resolved directory `base`; None if it cannot be."""
        expanded = self._expand(path)
        if expanded is None or "\x00" in expanded:
            return None
        return _resolve(base, expanded, self._probes)

    def record_probes(self, probes: list[tuple[str, str | None]] | None) -> None:
        """Append every file-system lookup resolution makes to `probes` (None: stop).

        The pipeline records them to know what a decision depended on.
        """
        self._probes = probes

    def check(self, path: str, base: str, *, file_tool: bool = False) -> PathVerdict:
        """Whether `path` (relative to the resolved directory `base`) may be used."""
        if self._approved is None:
            self.approved_directories  # noqa: B018 - resolves the directories on first use
        # `resolve`, spelled out: this runs for every path of every call.
        if path.startswith("~"):
            expanded = self._expand(path)
            if expanded is None or "\x00" in expanded:
                resolved = None
            else:
                resolved = _resolve(base, expanded, self._probes)
            if resolved is None:
                return PathVerdict(path, None, False, f"{path!r} is another user's home directory")
        else:
            if not file_tool and path.startswith("/dev/"):
                device = posixpath.normpath(path)
                if device in HARMLESS_DEVICES or _is_fd(device):
                    return PathVerdict(path, device, True)
            resolved = None if "\x00" in path else _resolve(base, path, self._probes)
            if resolved is None:
                return PathVerdict(path, None, False, f"{path!r} cannot be resolved")
        approved, approved_prefixes = self._approved_inside
        if self._protected_apart and (
            resolved.startswith(approved_prefixes) or resolved in approved
        ):
            # `_is_inside`, spelled out (a path inside a directory first: the common case),
            # and (apart) not protected.
            return _tuple_new(PathVerdict, (path, resolved, True, None))
        # `_is_inside`, spelled out likewise (with no protected paths both tests are empty).
        protected, protected_prefixes = self._protected_inside
        if resolved in protected or resolved.startswith(protected_prefixes):
            return PathVerdict(
                path,
                resolved,
                False,
                f"{path!r} is one of Tether's own records (audit log, sessions, logs "
                "or policies); the agent may not touch it",
            )
        if (
            resolved in approved
            or resolved.startswith(approved_prefixes)
            or (file_tool and _is_inside(resolved, self._state_inside))
        ):
            # `PathVerdict(path, resolved, True)` without its `__new__`'s Python frame.
            return _tuple_new(PathVerdict, (path, resolved, True, None))
        shown = f"{path!r}" if path == resolved else f"{path!r} resolves to {resolved} and"
        reason = f"{shown} is outside the approved directories ({self._described})"
        return _tuple_new(PathVerdict, (path, resolved, False, reason))

    def check_glob(self, pattern: str, base: str, *, file_tool: bool) -> list[PathVerdict]:
        """A glob: its fixed leading directories, and every file it matches now."""
        parts = pattern.split("/")
        fixed = "/".join(itertools.takewhile(lambda p: not any(c in p for c in "*?["), parts))
        verdicts = [self.check(fixed or ".", base, file_tool=file_tool)]
        if not verdicts[0].allowed or verdicts[0].resolved is None:
            return verdicts
        expanded = self._expand(pattern)
        if expanded is None:
            return verdicts
        matches = _expand_glob(expanded, base)
        for match in itertools.islice(matches, _MAX_GLOB_MATCHES + 1):
            verdicts.append(self.check(match, base, file_tool=file_tool))
        if len(verdicts) > _MAX_GLOB_MATCHES + 1:
            verdicts.append(
                PathVerdict(
                    path=pattern,
                    resolved=None,
                    allowed=False,
                    reason=f"{pattern!r} matches more than {_MAX_GLOB_MATCHES} files",
                )
            )
        return verdicts

    def _expand(self, path: str) -> str | None:
        if not path.startswith("~"):
            return path
        head, _, rest = path.partition("/")
        if head != "~":
            return None  # `~user`: another user's home is never inside the sandbox
        return self.home + ("/" + rest if rest else "")

    def _describe(self) -> str:
        self.approved_directories  # noqa: B018 - resolves the directories on first use
        return self._described


def _expand_glob(pattern: str, base: str) -> Iterator[str]:
    """The paths bash may expand `pattern` to (relative to `base` when it is relative).

    Each segment is read as bash reads it (`shell_glob`), and where its meaning is not
    sure (the locale's `[[=e=]]`, a bracket that may have been quoted) as matching more:
    every file bash could name is then checked. As bash does by default, a name starting
    with a dot is matched only by a segment starting with one, and `.` and `..` by none.
    Lazy, depth first, as `glob.iglob` is: the caller stops after enough matches.
    """
    segments = [s for s in pattern.split("/") if s]
    if segments:
        yield from _expand_from(
            "/" if pattern.startswith("/") else "", segments, pattern.endswith("/"), base
        )


def _expand_from(prefix: str, segments: list[str], trailing: bool, base: str) -> Iterator[str]:
    segment, rest = segments[0], segments[1:]
    more = bool(rest) or trailing  # directories only
    if not any(c in segment for c in "*?["):
        candidates: Iterator[str] = iter((segment,))
        checked = False
    else:
        candidates = _matching_names(prefix, segment, more, base)
        checked = True
    for name in candidates:
        path = f"{prefix}{name}" + ("/" if more else "")
        if rest:
            yield from _expand_from(path, rest, trailing, base)
        elif checked or os.path.lexists(posixpath.join(base, path)):
            yield path


def _matching_names(prefix: str, segment: str, directories: bool, base: str) -> Iterator[str]:
    match = matcher(segment, Reading.UNQUOTED)
    hidden = segment.startswith(".")
    try:
        with os.scandir(posixpath.join(base, prefix) if prefix else base) as listing:
            entries = list(listing)
    except OSError:
        return
    for entry in entries:
        name = entry.name
        visible = hidden or name[:1] != "."
        if visible and match(name) and (not directories or _is_directory(entry)):
            yield name


def _is_directory(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_dir()  # follows a link, as bash does
    except OSError:
        return False


_Inside = tuple[frozenset[str], tuple[str, ...]]
"""Directories as a set of themselves and a tuple of their prefixes (`dir/`)."""


def _inside_test(directories: Sequence[str]) -> _Inside:
    return frozenset(directories), tuple(d.rstrip("/") + "/" for d in directories)


def _is_inside(resolved: str, inside: _Inside) -> bool:
    """Whether `resolved` is one of the directories or inside one."""
    return resolved in inside[0] or resolved.startswith(inside[1])


def _is_fd(device: str) -> bool:
    return device.startswith("/dev/fd/") and device[8:].isdigit()


def probe(candidate: str) -> str | None:
    """What resolving sees at `candidate`: its symlink target, or None for anything else.

    A missing component, a file, a directory and a name that cannot be looked
    up are all applied as written, so they answer alike. A symlink whose target
    cannot be read answers `UNREADABLE_LINK`. Resolution depends on nothing
    but these answers, which is what lets a decision be reused while they stay
    the same (see `decision_cache`).
    """
    try:
        mode = os.lstat(candidate).st_mode
    except (OSError, ValueError):
        return None
    if not S_ISLNK(mode):
        return None
    return _link_target(candidate)


def _link_target(link: str) -> str:
    """The target of the symlink `link`, or `UNREADABLE_LINK`."""
    try:
        return os.readlink(link)  # noqa: PTH115 - str paths on the hot path
    except OSError:
        return UNREADABLE_LINK


_NOT_NAMES = frozenset({"", ".", ".."})
"""Path components that name no entry: an empty one (`//`, a trailing `/`), `.` and `..`."""

UNREADABLE_LINK = "\x00unreadable"
"""`probe`'s answer for a symlink whose target cannot be read (no real target holds NUL)."""


def _resolve(
    base: str, path: str, probes: list[tuple[str, str | None]] | None = None
) -> str | None:
    """Resolve `path` against `base` (already resolved), following symlinks.

    Like os.path.realpath, but starting from a resolved base: only the
    components of `path` itself are looked up, one lstat each. A component
    that does not exist is applied as written; a later `..` can climb back
    to existing directories, whose symlinks are followed again. Each lookup
    and its answer is appended to `probes` when given.

    A name below one whose lookup failed is not asked for: the system walks a
    path from its root, so looking it up fails at (or before) the same name,
    and `probe` would answer None. It is recorded with that answer all the
    same, so a kept verdict still asks about it (`decision_cache`).

    While walking, the root is the empty string: every name is then joined as
    `current + "/" + name`, and `..` cuts `current` at its last `/`, with no
    test for the root on the way (it is given back as `/`). `base` is what
    resolution gives, so it never ends in `/` unless it is the root.
    """
    lstat = os.lstat
    if path.startswith("/"):
        current = ""
        names = path[1:].split("/")
    else:
        current = "" if base == "/" else base
        names = path.split("/")
    # The leading names (the common case: `src/app.py`, `/home/me/project/x`), as the
    # loop below takes them, without its tests for what they are not: each is looked
    # up once, in order, and recorded. The first that is empty, `.` or `..` (not looked
    # up), missing or a symlink (looked up and recorded) hands the loop the state it
    # would have reached: the same lookups, answers and result.
    gone: str | None = None
    """The name whose lookup failed, with a `/`, while `current` is below it."""
    target: str | None = None
    taken = 0
    for name in names:
        if name in _NOT_NAMES:
            break
        candidate = f"{current}/{name}"
        taken += 1
        try:
            mode = lstat(candidate).st_mode
        except (OSError, ValueError):
            gone = candidate + "/"
            current = candidate
        else:
            if not S_ISLNK(mode):
                if probes is not None:
                    probes.append((candidate, None))
                current = candidate
                continue
            target = _link_target(candidate)
        # Missing (`current` is below it now) or a symlink (`current` is where it is).
        if probes is not None:
            probes.append((candidate, target))
        break
    else:
        return current  # every name there and none a symlink (so at least one name)
    pending = names[taken:]
    pending.reverse()
    hops = 0
    if target is not None:
        # The symlink step of the loop below, for the name just looked up.
        hops = 1
        if target == UNREADABLE_LINK:
            return None
        if target.startswith("/"):
            current = ""
        pending.extend(reversed(target.split("/")))
    while pending:
        part = pending.pop()
        if part in _NOT_NAMES:
            if part == "..":
                current = current[: current.rfind("/")]  # (the root stays the root)
                if gone is not None and not (current + "/").startswith(gone):
                    gone = None  # climbed back above the failed name: ask again
            continue
        candidate = f"{current}/{part}"
        if gone is not None:
            target = None  # below a failed lookup: what `probe` answers there
        else:
            # `probe`, spelled out: this runs for every component of every path.
            try:
                mode = lstat(candidate).st_mode
            except (OSError, ValueError):
                target = None
                gone = candidate + "/"
            else:
                target = _link_target(candidate) if S_ISLNK(mode) else None
        if probes is not None:
            probes.append((candidate, target))
        if target is None:
            current = candidate
            continue
        hops += 1
        if hops > _MAX_SYMLINKS or target == UNREADABLE_LINK:
            return None
        if target.startswith("/"):
            current = ""
        pending.extend(reversed(target.split("/")))
    return current or "/"
