"""Identifier types shared across the seams.

Chat platforms disagree on identifier types (Telegram uses integers, a terminal
has one local chat), so ids are accepted as either and compared as given.
"""

from __future__ import annotations

__all__ = ["ChatId", "UserId"]

UserId = int | str
ChatId = int | str
