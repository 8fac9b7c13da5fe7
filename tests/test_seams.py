"""The seams sit below what they connect: importing one loads no component above it,
and no module of Tether imports itself back through another."""

from __future__ import annotations

import ast
import graphlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

import tether

PACKAGE = Path(tether.__file__).parent

# The types a seam speaks in, and the seams themselves.
SEAMS = (
    "tether.core.types",
    "tether.core.services",
    "tether.agents.base",
    "tether.storage.base",
    "tether.connectors.base",
    "tether.middleware.base",
)

# What a seam must never load: the components on either side of it, and what they pull in.
ABOVE_THE_SEAMS = (
    "tether.core.safety",
    "tether.core.engine",
    "tether.core.session",
    "tether.core.commands",
    "tether.core.chat_services",
    "tether.app",
    "tether.agents.claude_code",
    "tether.plugins.registry",
    "tree_sitter",
    "tree_sitter_bash",
    "claude_agent_sdk",
)


def _loaded_after_import(module: str) -> list[str]:
    """The modules a fresh interpreter holds after importing `module` alone."""
    code = f"import json, sys; import {module}; print(json.dumps(sorted(sys.modules)))"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    loaded: list[str] = json.loads(result.stdout)
    return loaded


@pytest.mark.parametrize("seam", [pytest.param(s, id=s) for s in SEAMS])
def test_importing_a_seam_loads_nothing_above_it(seam: str) -> None:
    loaded = _loaded_after_import(seam)
    above = [
        name
        for name in loaded
        if any(name == top or name.startswith(top + ".") for top in ABOVE_THE_SEAMS)
    ]
    assert above == [], f"importing {seam} loads {above}"


def test_the_agent_seam_does_not_load_the_gatekeeper_or_tree_sitter() -> None:
    """It once loaded the gatekeeper, some thirty modules and tree-sitter."""
    loaded = set(_loaded_after_import("tether.agents.base"))
    assert "tether.core.safety.gatekeeper" not in loaded
    assert "tree_sitter" not in loaded
    assert sorted(name for name in loaded if name.startswith("tether")) == [
        "tether",
        "tether.agents",
        "tether.agents.base",
        "tether.core",
        "tether.core.types",
    ]


def test_the_shared_types_import_nothing_of_tether() -> None:
    assert _imports(_modules()["tether.core.types"], _modules()) == set()


def test_no_module_imports_itself_back() -> None:
    """No import cycle, type-only imports included: a circle is how a seam ends up
    importing the component above it. Imports inside functions (loaded on demand)
    are not module structure and are left out; a component's modules count as one."""
    modules = _modules()
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        node = _component(name)
        graph.setdefault(node, set()).update(_component(d) for d in _imports(path, modules))
        graph[node].discard(node)
    try:
        tuple(graphlib.TopologicalSorter(graph).static_order())
    except graphlib.CycleError as cycle:
        pytest.fail("import cycle: " + " -> ".join(cycle.args[1]))


@pytest.mark.parametrize(
    ("seam", "names"),
    [
        pytest.param(
            "tether.core.session", ("Session", "SessionMode", "MessageRecord"), id="session"
        ),
        pytest.param("tether.agents.base", ("AgentResponse", "ToolActivity"), id="agent"),
        pytest.param("tether.core.safety.gatekeeper", ("GateDecision",), id="gatekeeper"),
        pytest.param(
            "tether.core.safety.preview", ("ApprovalPreview", "PreviewPart"), id="preview"
        ),
    ],
)
def test_the_old_homes_re_export_the_moved_types(seam: str, names: tuple[str, ...]) -> None:
    import importlib

    from tether.core import types

    module = importlib.import_module(seam)
    for name in names:
        assert name in module.__all__
        assert getattr(module, name) is getattr(types, name)


# The gate and the Claude Code adapter are one component each here: how their own
# modules import each other is their inner structure, while a circle between a
# component and the rest of Tether is what this test is for.
_COMPONENTS = ("tether.core.safety.", "tether.agents.claude_")


def _component(module: str) -> str:
    for prefix in _COMPONENTS:
        if module.startswith(prefix):
            return prefix.rstrip("._")
    return module


def _modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def _imports(path: Path, modules: dict[str, Path]) -> set[str]:
    """The Tether modules `path` imports at module level (`if TYPE_CHECKING:` included)."""
    found: set[str] = set()

    def visit(nodes: list[ast.stmt]) -> None:
        for node in nodes:
            if isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                for alias in node.names:
                    child = f"{node.module}.{alias.name}"
                    found.add(child if child in modules else node.module)
            elif isinstance(node, ast.If | ast.Try):
                visit(node.body)
                visit(node.orelse)
                for handler in getattr(node, "handlers", ()):
                    visit(handler.body)

    visit(ast.parse(path.read_text(encoding="utf-8")).body)
    return {name for name in found if name in modules}
