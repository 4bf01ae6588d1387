"""The layering of DESIGN.md, read off the source: nothing in nn/, data/, training/, metrics/ imports a task, the
CLI or the service; the tasks import no CLI or serving code (the registry names their service adapters as text)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "rnnlab"
TASKS = ("forecast", "classify", "tag", "ie")
DOORS = ("cli", "serving", "export")
RULES = {
    **{layer: TASKS + DOORS + ("diagnostics",) for layer in ("nn", "data", "training", "metrics")},
    **{task: DOORS for task in TASKS},
}


def imported(path: Path) -> set[str]:
    """The rnnlab packages a module imports, at any depth of its code (lazy imports inside functions too)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        found |= {n.split(".")[1] for n in names if n.startswith("rnnlab.") and n.count(".") >= 1}
    return found


@pytest.mark.parametrize("layer", sorted(RULES))
def test_layers_import_only_downwards(layer):
    bad = {str(p.relative_to(SRC)): sorted(imported(p) & set(RULES[layer])) for p in (SRC / layer).rglob("*.py")}
    assert not {k: v for k, v in bad.items() if v}, f"{layer}/ imports from above it"


def test_the_check_sees_a_lazy_import(tmp_path):
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from rnnlab.cli.main import app\n    import rnnlab.serving\n", encoding="utf-8")
    assert imported(module) == {"cli", "serving"}


@pytest.mark.parametrize("package", ["classify", "forecast", "tag", "cli"])
def test_no_function_of_the_task_layer_is_over_60_lines(package):
    """Issue 23: the task packages and the CLI stay readable in one screen per function."""
    long = []
    for path in (SRC / package).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.end_lineno - node.lineno + 1 > 60:
                long.append(f"{path.relative_to(SRC)}:{node.lineno} {node.name} ({node.end_lineno - node.lineno + 1})")
    assert not long, long
