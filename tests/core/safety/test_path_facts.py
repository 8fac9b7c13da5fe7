"""A resolved path's credential test is the general one (`path_facts`).

`resolved_credential_reason` skips the general test's normalising steps for a
plain ASCII path the sandbox resolved, and its pattern pass for one none of
whose segments could start a location pattern. Held to
`PathAnalyzer.credential_reason` over generated absolute paths (every segment
the tables know, in any case, with backslashes and full-width letters), over
what the sandbox really resolves in generated trees of files, directories and
symlinks, and over every path the corpus names.
"""

from __future__ import annotations

import os
import posixpath
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tether.core.safety import analyzer
from tether.core.safety.analyzer import PathAnalyzer
from tether.core.safety.classify import Classifier
from tether.core.safety.path_facts import resolved_credential_reason
from tether.core.safety.sandbox import SandboxEnforcer

_GENERAL = PathAnalyzer().credential_reason

# Every segment the tables name, the leading segments of the location patterns, and
# ordinary ones: the shortcut's set test must see each of them where it matters.
_KNOWN = sorted(
    {
        *analyzer._CREDENTIAL_DIRS,
        *analyzer._CREDENTIAL_NAMES,
        *analyzer._SEGMENT_HINTS,
        *analyzer._CREDENTIAL_SAMPLES,
        *analyzer._ORDINARY_SAMPLES,
        *("proc", "self", "1", "environ", "mem", "etc", "ssh", "ssh_host_rsa_key", "sudoers.d"),
        *("config", "config.json", "hosts.yml", "gcloud", "keychains", "keyrings", "share"),
        *("settings.xml", "gradle.properties", "credentials.toml", "x.tfstate", "a.env.bak"),
        *("client_secret.json", "prod-gcp-key.json", "secrets.sample.yaml", ".env.example"),
        *("id_rsa", "id_ed25519_sk", "identity", "x.pem", "x.ovpn", "src", "app.py"),
    }
)
_SEGMENT = st.one_of(
    st.sampled_from(_KNOWN),
    st.sampled_from(_KNOWN).map(str.upper),
    st.sampled_from(_KNOWN).map(lambda s: s.replace(".", "\uff0e")),  # full-width dot
    st.sampled_from(_KNOWN).map(lambda s: s.replace("s", "\uff53")),  # full-width s
    st.sampled_from(_KNOWN).map(lambda s: f"a\\{s}"),
    st.sampled_from(_KNOWN).map(lambda s: f"{s}\\..\\x"),
    st.text(alphabet="aes.-_\\\nIDK", min_size=1, max_size=8),
)


def _resolved_shape(segments: list[str]) -> str:
    """An absolute path as resolution makes one: no empty, `.` or `..` segment."""
    kept = [s for s in segments if s not in ("", ".", "..") and "/" not in s]
    return "/" + "/".join(kept)


@settings(max_examples=800, deadline=None)
@given(segments=st.lists(_SEGMENT, min_size=0, max_size=6))
def test_a_resolved_path_gets_the_general_reason(segments: list[str]) -> None:
    path = _resolved_shape(segments)
    assert resolved_credential_reason(path) == _GENERAL(path), path


@pytest.mark.parametrize(
    "path",
    [
        pytest.param("/", id="root"),
        pytest.param("/home/u/.ssh/config", id="credential-directory"),
        pytest.param("/home/u/.docker/config.json", id="pattern-only"),
        pytest.param("/home/u/.kube/config", id="pattern-behind-reasonless-directory"),
        pytest.param("/proc/1/environ", id="process-environment"),
        pytest.param("/p/.git/config", id="reasonless-pattern"),
        pytest.param("/p/.ENV", id="upper-case-name"),
        pytest.param("/p/SRC/.SSH/x", id="upper-case-directory"),
        pytest.param("/p/a\\.ssh\\id", id="backslash-directory"),
        pytest.param("/p/\uff0eenv", id="full-width-name"),
        pytest.param("/p/x\\..\\.env", id="backslash-dot-dot"),
        pytest.param("/p/src/app.py", id="ordinary"),
        pytest.param("/p/id_rsa\n", id="newline-name"),
    ],
)
def test_spellings_get_the_general_reason(path: str) -> None:
    assert resolved_credential_reason(path) == _GENERAL(path)


_NAMES = ["a", "b", ".ssh", ".env", "id_rsa", "src", ".docker", "config.json", "secrets.yaml"]
_NODE = st.one_of(
    st.just(("dir", None)),
    st.just(("file", None)),
    st.tuples(
        st.just("link"),
        st.lists(st.sampled_from([*_NAMES, "..", ".", "nowhere", "@"]), min_size=1, max_size=4),
    ),
)
_TREE = st.dictionaries(
    st.lists(st.sampled_from(_NAMES), min_size=1, max_size=3).map("/".join),
    _NODE,
    max_size=8,
)
_PATHS = st.lists(
    st.sampled_from([*_NAMES, "..", ".", "", "nowhere", "~"]), min_size=1, max_size=6
).map("/".join)


def _build(root: Path, tree: dict[str, tuple[str, Any]]) -> None:
    for name, (kind, target) in sorted(tree.items(), key=lambda item: item[0].count("/")):
        where = root / name
        try:
            where.parent.mkdir(parents=True, exist_ok=True)
            if kind == "dir":
                where.mkdir()
            elif kind == "file":
                where.write_text("x")
            else:
                where.symlink_to("/".join(str(root) if w == "@" else w for w in target))
        except OSError:
            continue


@settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(tree=_TREE, paths=st.lists(_PATHS, min_size=1, max_size=4))
def test_what_the_sandbox_resolves_gets_the_general_reason(
    tmp_path_factory: pytest.TempPathFactory, tree: dict[str, tuple[str, Any]], paths: list[str]
) -> None:
    root = tmp_path_factory.mktemp("tree")
    _build(root, tree)
    sandbox = SandboxEnforcer([root], home=root / ".ssh")
    base = os.path.realpath(root)
    for path in paths:
        for file_tool in (False, True):
            verdict = sandbox.check(path, base, file_tool=file_tool)
            if verdict.resolved is None:
                continue
            # What the shortcut relies on: resolution never leaves a step to normalise.
            assert posixpath.normpath(verdict.resolved) == verdict.resolved, path
            assert resolved_credential_reason(verdict.resolved) == _GENERAL(verdict.resolved)


def test_every_corpus_path_resolved_gets_the_general_reason(
    classifier: Classifier, tmp_path: Path
) -> None:
    from tests.core.safety.test_pipeline_fast_paths import COMMANDS

    sandbox = SandboxEnforcer([tmp_path], home=tmp_path / "home")
    base = os.path.realpath(tmp_path)
    compared = 0
    for command in COMMANDS:
        for part in classifier.classify("Bash", {"command": command}).parts:
            for use in part.paths:
                resolved = sandbox.check(use.path, base).resolved
                if resolved is not None:
                    assert resolved_credential_reason(resolved) == _GENERAL(resolved), use.path
                    compared += 1
    assert compared > 1000
