"""What a user gets from `pip install xltool`: the frameworks, the samples the demo checks, the
licence — and not the scripts that rebuild the samples from the seeds (they need the repository)."""

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel_names(tmp_path_factory):
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(out), str(ROOT)],
        check=True, capture_output=True, cwd=out,
    )
    (wheel,) = out.glob("xltool-*.whl")
    with zipfile.ZipFile(wheel) as z:
        return set(z.namelist())


def test_wheel_ships_frameworks_samples_and_licence(wheel_names):
    assert "xltool/workbook_templates/project.yaml" in wheel_names
    assert "xltool/workbook_templates/department.yaml" in wheel_names
    assert "xltool/samples/roster.csv" in wheel_names
    assert "xltool/samples/demo.key" in wheel_names
    assert any(n.startswith("xltool/samples/returned/") and n.endswith(".xlsx") for n in wheel_names)
    assert "xltool/py.typed" in wheel_names
    # the report drafts' wording is data shipped beside the code
    assert {"xltool/report/templates/department.yaml", "xltool/report/templates/project.yaml"} <= wheel_names
    assert any(n.endswith(".dist-info/LICENSE") or "/licenses/LICENSE" in n for n in wheel_names)


def test_wheel_leaves_out_the_sample_building_scripts(wheel_names):
    assert not [n for n in wheel_names if n.startswith("xltool/samples/") and n.endswith(".py")]
    assert not [n for n in wheel_names if n.startswith("tests/") or n.startswith("benchmarks/")]


def test_runtime_dependencies_leave_out_the_test_only_formula_engine():
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    runtime = text.split("dependencies = [", 1)[1].split("]", 1)[0]
    assert "formulas" not in runtime
