"""What a resolved path is: the credential test the sandbox stage runs on every path it resolves.

`PathAnalyzer.credential_reason` reads any spelling of a path (relative, `~`,
`..`, a backslash, full-width letters). The sandbox hands the pipeline paths
that are already resolved: absolute, with no empty, `.` or `..` component
(`sandbox._resolve` never appends one, and starts from a resolved directory).
For such a path in plain ASCII without a backslash, the general test's
normalising steps change nothing, so what is left is one lowercase, one split
and one set test: a path none of whose segments names a credential directory
or starts a location pattern (`_SEGMENT_HINTS`) can only be a credential by its
name. Anything else takes the general test. The tests hold this to
`credential_reason` over generated trees and spellings.
"""

from __future__ import annotations

from tether.core.safety.analyzer import _SEGMENT_HINTS, PathAnalyzer, _name_reason

__all__ = ["resolved_credential_reason"]

_general = PathAnalyzer().credential_reason


def resolved_credential_reason(resolved: str) -> str | None:
    """`PathAnalyzer().credential_reason(resolved)` for a path the sandbox resolved."""
    if resolved.isascii() and "\\" not in resolved:
        normal = resolved.lower()
        pieces = normal.split("/")
        if _SEGMENT_HINTS.isdisjoint(pieces):
            # No credential directory and no location pattern: the name decides. Only
            # the root ends in `/` (its name is the whole path, as the general test says).
            return _name_reason(pieces[-1] or normal)
    return _general(resolved)
