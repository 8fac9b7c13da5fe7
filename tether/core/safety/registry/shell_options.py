"""Bash's own options (`set -o`, `shopt`, `bash -o/-O`): the ones the analyser's model holds under.

The analyser reads a command line as bash reads it with its defaults: no
history expansion, no aliases, globs that skip hidden names, `.` and `..`,
match case and stop at one directory level. An option that changes how bash
reads or expands later lines (`set -H` turns `!$` into the previous line's
words; `shopt -s dotglob` lets `?env` match `.env`; `shopt -u globskipdots`
lets `.?` match `..`) makes the lines after it mean what the analyser did not
see. So these are allowlists, per direction: turning an option on or off
keeps a call allowed only when the option is listed for that direction here;
any other name, an unknown or a misspelled one included, asks.

Read by the `set` and `shopt` detectors (`detectors/environment.py`) and by
the shell detector for `bash -o NAME` / `bash -O NAME` (`detect_code.py`).
"""

from __future__ import annotations

__all__ = ["SET_OFF", "SET_ON", "SHOPT_OFF", "SHOPT_ON", "set_option_problem", "shopt_problem"]

SET_ON = frozenset(
    {
        # Exit, trace and error handling: what runs is unchanged.
        "errexit",
        "nounset",
        "pipefail",
        "xtrace",
        "verbose",
        "errtrace",
        "functrace",
        # Globbing off, no clobbering: fewer files expanded or written than the model has.
        "noglob",
        "noclobber",
        # Defaults, job control and notifications: nothing about the line changes.
        "braceexpand",
        "hashall",
        "monitor",
        "notify",
        "allexport",
        "physical",
        "posix",
    }
)
"""`set -o NAME`: options whose turning on leaves the model as it is. Not `history` or
`histexpand` (`!` words rewrite later lines), `keyword` (assignments anywhere change how
words parse), `interactive-comments`, `onecmd`, `privileged`, editing modes."""

SET_OFF = SET_ON | {"history", "histexpand"}
"""`set +o NAME`: turning these off leaves the model as it is (history expansion off is
the default the model assumes). Not `braceexpand`-like defaults the model relies on:
`interactive-comments` off makes `#` an ordinary character."""

SHOPT_ON = frozenset(
    {
        # Extended patterns (`!(x)`, `@(a|b)`) are not shell syntax the parser reads:
        # a word using one is not understood, so it is never allowed (the tests hold it).
        "extglob",
        "inherit_errexit",
        "globskipdots",
        "interactive_comments",
        "globasciiranges",
        "sourcepath",
        "promptvars",
        "checkwinsize",
        "cmdhist",
        "lithist",
        "gnu_errfmt",
        "shift_verbose",
        "checkhash",
        "huponexit",
        "progcomp",
        "hostcomplete",
        "complete_fullquote",
        "force_fignore",
        "no_empty_cmd_completion",
    }
)
"""`shopt -s NAME`: the defaults the model assumes, and options that act only on errors,
messages or interactive completion. Not the glob options (`dotglob`, `nocaseglob`,
`globstar`, `nullglob`, `failglob`, `nocasematch`: they change which files a word names,
or drop a word that names none: `cd nomatch*` goes home), `expand_aliases`,
`cdable_vars` (`cd NAME` goes to `$NAME`), `lastpipe` (a pipe's last command changes
this shell), `xpg_echo`, `extdebug`, `assoc_expand_once`, the `compat*` levels, and the
history options."""

SHOPT_OFF = (SHOPT_ON - {"globskipdots", "interactive_comments", "globasciiranges"}) | {
    # Off is their default: turning them off restores what the model assumes.
    "dotglob",
    "nocaseglob",
    "nocasematch",
    "globstar",
    "nullglob",
    "failglob",
    "expand_aliases",
    "cdable_vars",
    "lastpipe",
    "xpg_echo",
    "extdebug",
    "histappend",
    "histreedit",
    "histverify",
    "autocd",
    "cdspell",
    "dirspell",
    "direxpand",
}
"""`shopt -u NAME`: options whose turning off leaves the model as it is. Not
`globskipdots` (off, `.?` matches `..`: a glob climbs out of the project),
`interactive_comments` or `globasciiranges` (their defaults are on)."""


def set_option_problem(name: str, on: bool) -> str | None:
    """Why `set -o NAME` (`on`) or `set +o NAME` changes what later lines mean, or None."""
    if name in (SET_ON if on else SET_OFF):
        return None
    if name in {"history", "histexpand"}:
        return f"turns on history expansion ({name}): `!` words rewrite the lines after it"
    return _unmodelled(name, on)


def shopt_problem(name: str, on: bool) -> str | None:
    """Why `shopt -s NAME` (`on`) or `shopt -u NAME` changes what later lines mean, or None."""
    if name in (SHOPT_ON if on else SHOPT_OFF):
        return None
    return _unmodelled(name, on)


def _unmodelled(name: str, on: bool) -> str:
    return f"turns {'on' if on else 'off'} {name}, a shell option the analyser does not model"
