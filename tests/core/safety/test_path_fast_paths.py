"""The credential-name test and the file tools' classifier take shortcuts that change nothing.

`_plain_reason` looks every segment up in one ordered pass entered only when some
segment names a credential directory; the reference below is the plain reading
(each directory, then the name). The file tools skip the other readings of a
path without `:` or `\\`, and keep building their model by validation.
"""

from __future__ import annotations

import posixpath

from hypothesis import given, settings
from hypothesis import strategies as st

from tether.core.safety import analyzer
from tether.core.safety.analyzer import PathAnalyzer
from tether.core.safety.classify import Classification, Classifier, _path_readings
from tether.core.safety.shell import ShellParser

_SEGMENTS = st.sampled_from(
    [
        "",
        ".",
        "..",
        "~",
        ".ssh",
        ".aws",
        ".docker",
        ".git",
        "config",
        "config.json",
        ".env",
        ".env.example",
        "id_rsa",
        "src",
        "app.py",
        "credentials",
        "secrets.yaml",
        "proc",
        "self",
        "environ",
        ".kube",
        "gshadow",
        "x.pem",
        "C:",
        "file:",
        "A\\b",
        "etc",
        "sudoers.d",
        "ssh_host_rsa_key",
        "library",
        "keychains",
        ".config",
        "gcloud",
        "chromium",
        ".m2",
        "settings.xml",
        "1",
        "mem",
        "client_secret.json",
        "prod-gcp-key.json",
        "x.tfstate",
        "id_ed25519",
        "notes.txt",
    ]
)
_PATHS = st.one_of(
    st.lists(_SEGMENTS, min_size=1, max_size=5).map("/".join),
    st.text(alphabet="./\\:~aes-_", min_size=1, max_size=12),
)


def _reference(normal: str) -> str | None:
    parts = [p for p in normal.split("/") if p]
    for part in parts[:-1]:
        reason = analyzer._CREDENTIAL_DIRS.get(part)
        if reason:
            return reason
    name = parts[-1] if parts else normal
    if analyzer._CREDENTIAL_DIRS.get(name):
        return analyzer._CREDENTIAL_DIRS[name]
    reason = analyzer._name_reason(name)
    if reason is not None:
        return reason
    for pattern, pattern_reason in analyzer._PATH_PATTERNS:
        if pattern_reason is not None and pattern.search(normal):
            return pattern_reason
    return None


@settings(max_examples=1000, deadline=None)
@given(path=_PATHS)
def test_a_path_gets_the_reason_of_the_plain_reading(path: str) -> None:
    slashed = path.replace("\\", "/")
    normal = (slashed if analyzer._is_normal(slashed) else posixpath.normpath(slashed)).lower()
    assert PathAnalyzer()._plain_reason(normal) == _reference(normal)
    if "*" not in normal and "?" not in normal and "[" not in normal:
        assert PathAnalyzer().credential_reason(path) == _reference(normal)


@settings(max_examples=150, deadline=None)
@given(path=_PATHS)
def test_a_path_without_colon_or_backslash_has_no_other_reading(path: str) -> None:
    if ":" not in path and "\\" not in path:
        assert _path_readings(path) == []


_PARSER = ShellParser()
_CLASSIFIER = Classifier(_PARSER, analyzer.CommandAnalyzer(_PARSER, PathAnalyzer()), PathAnalyzer())


@settings(max_examples=150, deadline=None)
@given(
    tool=st.sampled_from(["Read", "Write", "Edit", "Glob", "Grep", "LS", "NotebookEdit"]),
    path=_PATHS,
    field=st.sampled_from(["file_path", "notebook_path", "path"]),
)
def test_a_file_tool_is_classified_as_validation_would_build_it(
    tool: str, path: str, field: str
) -> None:
    built = _CLASSIFIER.classify(tool, {field: path, "pattern": "*.py"})
    validated = Classification.model_validate(built.model_dump())
    assert built == validated
    assert built.model_dump(mode="json") == validated.model_dump(mode="json")
    assert built.model_fields_set == {"tool_name", "kind", "parts"}


@settings(max_examples=400, deadline=None)
@given(
    tool=st.sampled_from(["Read", "Write", "Edit", "MultiEdit", "NotebookEdit", "Grep", "Glob"]),
    path=_PATHS
    | st.sampled_from([".git/hooks/pre-commit", "x/.GIT/config", ".env", "~/.ssh/id_rsa"]),
    notebook=st.none() | _PATHS,
    extra=st.sampled_from([{}, {"offset": 3}, {"glob": "*.env"}, {"path": "src"}]),
)
def test_a_file_tool_naming_one_path_is_classified_as_the_general_way(
    tool: str, path: str, notebook: str | None, extra: dict[str, object]
) -> None:
    """`classify`'s one-path shortcut (`_one_path`) makes what `_file_tool` makes, and a
    call it must not take (a `:` or `\\`, a notebook path, a directory tool) is left alone."""
    tool_input: dict[str, object] = {"file_path": path, **extra}
    if notebook is not None:
        tool_input["notebook_path"] = notebook
    kind = _CLASSIFIER.classify(tool, tool_input).kind
    general = _CLASSIFIER._file_tool(tool, kind, tool_input)
    got = _CLASSIFIER.classify(tool, tool_input)
    assert got == general
    assert got.model_dump(mode="json") == general.model_dump(mode="json")
    assert got.model_fields_set == general.model_fields_set
