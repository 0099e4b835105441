"""The dashboard's components import each other one way (issue 14, item 7): no circle,
``ui`` is the base that draws without knowing who is logged in, and the shared package
never imports Streamlit."""

from __future__ import annotations

import ast

from ambon_core.settings import ROOT

COMPONENTS = ROOT / "components"


def _imports(path) -> set[str]:
    """Component modules imported by ``path`` (top level or inside functions)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module == "components":
                found |= {a.name for a in node.names}
            elif node.module.startswith("components."):
                found.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            found |= {a.name.split(".")[1] for a in node.names if a.name.startswith("components.")}
    return found - {path.stem}


def test_components_import_one_way() -> None:
    graph = {p.stem: _imports(p) for p in COMPONENTS.glob("*.py") if p.stem != "__init__"}
    state: dict[str, str] = {}

    def visit(node: str, trail: list[str]) -> None:
        state[node] = "open"
        for nxt in sorted(graph.get(node, ())):
            assert state.get(nxt) != "open", " -> ".join([*trail, node, nxt])
            if nxt not in state:
                visit(nxt, [*trail, node])
        state[node] = "done"

    for module in sorted(graph):
        if module not in state:
            visit(module, [])
    assert graph["ui"] <= {"fmt", "i18n", "text", "kiosk"}, graph["ui"]


def test_shared_package_has_no_streamlit() -> None:
    for path in (ROOT / "ambon_core").rglob("*.py"):
        tree = ast.parse(path.read_text())
        names = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        names |= {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
        assert not any(str(n).startswith("streamlit") for n in names), path
