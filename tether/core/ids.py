"""How user ids are compared: by one key, so the same id matches however it is typed.

Connectors give ids as their platform has them (Telegram: int; an embedding
application often: str). Wherever Tether decides who someone is (the
allow-list, the owner of an approval, a rate-limit bucket) it compares
`user_key(id)`, never the ids themselves; events, the audit log and the
session store keep the id as the connector gave it.

The rule, chosen so that two different users never compare equal:

- an int and its plain decimal text are the same id: `1003 == "1003"`;
  `-5 == "-5"`;
- any other text is an id of its own, compared exactly: `"+1003"`,
  `"01003"`, `"1003.0"`, `" 1003"` (whitespace is not trimmed: a connector
  that pads an id has a bug, and guessing would be worse) and `"alice"` each
  match only themselves, never the number 1003;
- a bool is never a user id (`True == 1` in Python); it matches nothing
  else, nor does a float or any other type.
"""

from __future__ import annotations

import re

__all__ = ["DECIMAL_ID", "user_key"]

DECIMAL_ID = re.compile(r"-?(?:0|[1-9][0-9]*)")
"""The plain decimal spelling of an integer id: no sign but '-', no leading zero."""


def user_key(user_id: object) -> str:
    """The comparison key of `user_id`: equal keys mean the same user."""
    if isinstance(user_id, bool):
        return f"bool:{user_id}"
    if isinstance(user_id, int):
        return str(user_id)
    if isinstance(user_id, str):
        # Checked with isascii: str.isdigit-style matching would take other scripts' digits.
        if user_id.isascii() and DECIMAL_ID.fullmatch(user_id):
            return user_id
        return f"text:{user_id}"
    return f"{type(user_id).__name__}:{user_id!r}"
