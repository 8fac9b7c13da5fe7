"""Patterns compiled on first use answer exactly as the same patterns compiled at import."""

from __future__ import annotations

import re
import sys
from types import ModuleType

import pytest

import tether.core.safety.registry.detectors.containers
import tether.core.safety.registry.detectors.languages
import tether.core.safety.registry.detectors.stores
import tether.core.safety.registry.detectors.targets
import tether.core.safety.registry.environment
import tether.core.safety.registry.git
import tether.core.safety.registry.scripts
from tether.core.safety.registry.lazy import LazyPattern

_MODULES: tuple[ModuleType, ...] = (
    tether.core.safety.registry.detectors.containers,
    tether.core.safety.registry.detectors.languages,
    tether.core.safety.registry.detectors.stores,
    tether.core.safety.registry.detectors.targets,
    tether.core.safety.registry.environment,
    tether.core.safety.registry.git,
    tether.core.safety.registry.scripts,
)

_TEXTS = (
    "",
    "x",
    "PATH",
    "GIT_PAGER",
    "core.pager",
    "alias.x",
    "DROP TABLE users; -- gone",
    "delete from t where 1=1",
    "update t set a=1",
    'print > "/etc/passwd"',
    'system("rm -rf /")',
    'cmd | getline; ENVIRON["HOME"]',
    "seccomp=unconfined",
    '{"privileged": true}',
    "u+s",
    "4755",
    'import "x"; $ENV.HOME; env.PATH; load("f")',
    ":!sh\n:w !cat",
    "é\u2028\x00" * 3,
    "a" * 2000,
)


def _patterns() -> list[tuple[str, LazyPattern]]:
    found = [
        (f"{module.__name__}.{name}", value)
        for module in _MODULES
        for name, value in vars(module).items()
        if isinstance(value, LazyPattern)
    ]
    assert len(found) >= 25
    return found


@pytest.mark.parametrize(("name", "lazy"), _patterns())
def test_a_lazy_pattern_answers_as_the_compiled_one(name: str, lazy: LazyPattern) -> None:
    compiled = lazy.compiled()
    again = re.compile(lazy.pattern, compiled.flags)
    assert compiled.pattern == again.pattern and compiled.flags == again.flags, name
    for text in _TEXTS:
        for pos, endpos in ((0, sys.maxsize), (1, sys.maxsize), (0, 3), (2, 1)):
            for method in ("match", "search", "fullmatch"):
                got = getattr(lazy, method)(text, pos, endpos)
                want = getattr(again, method)(text, pos, endpos)
                assert (got and (got.span(), got.groups())) == (
                    want and (want.span(), want.groups())
                ), (name, method, text[:20])
            spans = [m.span() for m in lazy.finditer(text, pos, endpos)]
            assert spans == [m.span() for m in again.finditer(text, pos, endpos)]
            assert lazy.findall(text, pos, endpos) == again.findall(text, pos, endpos)
        assert lazy.sub("#", text) == again.sub("#", text)
        assert lazy.sub("#", text, 1) == again.sub("#", text, 1)


def test_each_method_compiles_it_once_and_is_the_compiled_pattern_s_after() -> None:
    for method, call in (
        ("match", lambda p: p.match("ab")),
        ("search", lambda p: p.search("ab")),
        ("fullmatch", lambda p: p.fullmatch("ab")),
        ("finditer", lambda p: list(p.finditer("ab"))),
        ("findall", lambda p: p.findall("ab")),
        ("sub", lambda p: p.sub("", "ab")),
    ):
        lazy = LazyPattern(r"(?i)B")
        assert "match" not in vars(lazy), method  # nothing compiled at construction
        call(lazy)
        compiled = lazy.compiled()
        assert lazy.compiled() is compiled
        for name in ("match", "search", "fullmatch", "finditer", "findall", "sub"):
            assert getattr(lazy, name) == getattr(compiled, name), (method, name)


def test_flags_are_kept() -> None:
    lazy = LazyPattern(r"^drop$", re.IGNORECASE)
    assert lazy.match("DROP") is not None
    assert LazyPattern(r"^drop$").match("DROP") is None
    assert LazyPattern(r"a.b", re.DOTALL).search("a\nb") is not None
