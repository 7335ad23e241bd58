"""The public API of README's "作为 Python 库使用", and the shape of the code (DESIGN.md, "Layout")."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest

import xltool

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
DEMO_KEY = SAMPLES / "demo.key"
WUHAN = next((SAMPLES / "returned").glob("2021_*.xlsx"))


@pytest.fixture(autouse=True)
def _restore_key(monkeypatch):
    # check_files(key=…) makes the key this process's key, as --key does: undo it after each test
    monkeypatch.delenv("XLTOOL_KEY_FILE", raising=False)


def test_the_four_calls_run_the_whole_loop(tmp_path):
    paths = xltool.generate_templates(SAMPLES / "roster.csv", tmp_path / "模板", key=DEMO_KEY)
    assert len(paths) == 2 and all(p.exists() for p in paths)
    results = xltool.check_files(WUHAN, key=DEMO_KEY)  # a Path
    # The seed's table leaves one actual value blank: the one error, on its cell; the score stands.
    errors = [(f.code, f.sheet, f.cell) for f in results[0].findings if f.severity == "error"]
    assert errors == [("REQUIRED_BLANK", "绩效指标", "H33")]
    assert str(results[0].evaluations[0].score) == "95.00"
    summary = xltool.write_summary(results, tmp_path / "汇总.xlsx")
    assert openpyxl.load_workbook(summary)["汇总"].max_row >= 4
    frame = xltool.to_dataframe(results)
    assert frame.loc[0, "score"] == 95.0 and frame.loc[0, "grade"] == "优"


def test_check_files_takes_a_string_a_folder_or_a_list(tmp_path):
    one = xltool.check_files(str(WUHAN), key=DEMO_KEY)
    folder = xltool.check_files(SAMPLES / "returned", key=DEMO_KEY)
    listed = xltool.check_files([str(WUHAN), tmp_path / "没有这个文件.xlsx"], key=DEMO_KEY)
    assert len(one) == 1 and len(folder) == 2
    assert sorted(r.status for r in listed) == ["failed", "missing"]


def test_the_package_says_it_is_typed():
    assert (ROOT / "xltool" / "py.typed").exists()


LAYERS = {"core": 0, "template": 1, "check": 2, "report": 2, "demo": 3, "workspace": 3, "cli": 4}
# Layers of the same rank that must not import each other.
APART = ({"check", "report"}, {"demo", "workspace"})


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("xltool"):
            found.add(node.module)
            found.update(f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("xltool"))
        elif isinstance(node, ast.ImportFrom) and node.level:
            raise AssertionError(f"{path}: relative import; the code uses absolute xltool.… imports")
    return found


def _layer(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in LAYERS else None


def test_no_module_imports_a_higher_layer():
    """core ← template ← check, report ← demo, workspace ← cli: a lower layer never imports a
    higher one, check and report never import each other, nothing but the command line imports
    the workspace, and nothing imports the command line."""
    wrong = []
    for path in sorted((ROOT / "xltool").rglob("*.py")):
        rel = path.relative_to(ROOT).with_suffix("")
        own = _layer(".".join(rel.parts))
        if own is None:
            continue
        for module in _imports(path):
            other = _layer(module)
            if other is None or other == own:
                continue
            if LAYERS[other] > LAYERS[own] or {own, other} in APART:
                wrong.append(f"{rel} imports {module}")
    assert wrong == []


def test_the_core_touches_no_workbook_and_no_network():
    forbidden = ("openpyxl", "xlsxwriter", "lxml", "zipfile", "socket", "urllib", "subprocess")
    for path in (ROOT / "xltool" / "core").glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        names |= {n.module.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
        assert not names & set(forbidden), (path.name, names & set(forbidden))


def _module_graph() -> dict[str, set[str]]:
    """Every xltool module and the xltool modules it imports, at the top or inside a function."""
    modules = {}
    for path in (ROOT / "xltool").rglob("*.py"):
        name = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        modules[name] = path
    graph = {}
    for name, path in modules.items():
        deps = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("xltool"):
                deps.update(f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in modules else node.module for a in node.names)
            elif isinstance(node, ast.Import):
                deps.update(a.name for a in node.names)
        graph[name] = {d for d in deps if d in modules and d != name}
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str]:
    """One import cycle of the graph as a path (first module repeated at the end), or []."""
    state: dict[str, int] = {}  # 1 on the current path, 2 done
    path: list[str] = []

    def visit(module: str) -> list[str]:
        state[module] = 1
        path.append(module)
        for dep in sorted(graph[module]):
            if state.get(dep) == 1:
                return path[path.index(dep):] + [dep]
            if dep not in state and (found := visit(dep)):
                return found
        path.pop()
        state[module] = 2
        return []

    for module in sorted(graph):
        if module not in state and (found := visit(module)):
            return found
    return []


def test_no_import_cycle_even_through_imports_inside_functions():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == ["a", "b", "c", "a"]  # the finder finds one
    graph = _module_graph()
    assert len(graph) > 40 and "xltool.check.reader" in graph["xltool.check.batch"]
    assert _cycle(graph) == []


def test_every_module_imports_on_its_own():
    """Each module imported first in a fresh interpreter: an order-dependent import fails here."""
    modules = sorted(m for m in _module_graph() if not m.endswith("__main__"))  # __main__ runs the program
    code = "import importlib, sys\nfor name in sys.argv[1:]:\n    importlib.import_module(name)\n"
    for name in modules:
        run = subprocess.run([sys.executable, "-c", code, name], capture_output=True, text=True, cwd=ROOT, timeout=120)
        assert run.returncode == 0, (name, run.stderr[-2000:])
