"""user_key: the same id matches however it is typed; two different users never compare equal."""

from __future__ import annotations

import itertools

import pytest

from tether.core.ids import user_key

SAME = [
    pytest.param(1003, "1003", id="int-and-text"),
    pytest.param(0, "0", id="zero"),
    pytest.param(-1001234567890, "-1001234567890", id="negative"),
    pytest.param(2**63 - 1, str(2**63 - 1), id="largest-64-bit"),
    pytest.param(2**70, str(2**70), id="beyond-64-bits-still-exact"),
]

DIFFERENT = [
    pytest.param(1003, "+1003", id="plus-sign"),
    pytest.param(1003, "01003", id="leading-zero"),
    pytest.param(1003, "1003.0", id="float-text"),
    pytest.param(1003, 1003.0, id="float"),
    pytest.param(1003, " 1003", id="leading-space"),
    pytest.param(1003, "1003 ", id="trailing-space"),
    pytest.param(1003, "1003\n", id="newline"),
    pytest.param(1003, "1_003", id="underscore"),
    pytest.param(1003, "١٠٠٣", id="arabic-indic-digits"),
    pytest.param(1003, "１００３", id="full-width-digits"),
    pytest.param(1, True, id="true-is-not-1"),
    pytest.param(0, False, id="false-is-not-0"),
    pytest.param("1", True, id="true-is-not-text-1"),
    pytest.param("True", True, id="true-is-not-its-name"),
    pytest.param(0, "-0", id="minus-zero"),
    pytest.param(1003, "text:1003", id="text-prefix-spoof"),
    pytest.param("alice", "Alice", id="case"),
    pytest.param(None, "None", id="none"),
]


@pytest.mark.parametrize(("a", "b"), SAME)
def test_the_same_id_however_typed(a: object, b: object) -> None:
    assert user_key(a) == user_key(b)


@pytest.mark.parametrize(("a", "b"), DIFFERENT)
def test_different_spellings_are_different_users(a: object, b: object) -> None:
    assert user_key(a) != user_key(b)


def test_no_two_distinct_ids_share_a_key() -> None:
    ids: list[object] = [1, 2, -1, "1", "01", "+1", "a", "text:a", "bool:True", True, False, 1.0]
    for a, b in itertools.combinations(ids, 2):
        same_user = (type(a) in (int, str) and type(b) in (int, str)) and str(a) == str(b)
        assert (user_key(a) == user_key(b)) == same_user, (a, b)
