"""Shared fixtures: the two seed archives as roster entries, and templates made from them."""

from __future__ import annotations

import os
import sys
import tempfile
from decimal import Decimal as D
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# The signing key of the test run: a fresh configuration folder, so the tests never create or use
# the key in the user's own ~/.config/xltool (subprocesses inherit it).
os.environ["XDG_CONFIG_HOME"] = tempfile.mkdtemp(prefix="xltool-test-config-")
os.environ.pop("XLTOOL_KEY_FILE", None)
os.environ.pop("XLTOOL_FRAMEWORKS", None)
os.environ.pop("XLTOOL_ROSTER", None)
sys.path.insert(0, str(ROOT))  # the tests run against the checkout, installed or not
sys.path.insert(0, str(Path(__file__).resolve().parent))  # tests/libreoffice.py

from xltool.core.model import ProjectInfo, UnitInfo  # noqa: E402
from xltool.template import plan_for, write_plan  # noqa: E402

WUHAN = UnitInfo(
    "武汉市档案馆", "420100-DAG", 2021, "department",
    initial_budget=D("3203.46"), adjusted_budget=D("2814.98"), final_accounts=D("2814.98"),
)
WUCHANG = UnitInfo(
    "武昌区档案馆", "420106-DAG", 2020, "project",
    projects=(ProjectInfo("档案保护费", D("300")), ProjectInfo("史料编研费", D("100"))),
)
BLANK_PROJECT = UnitInfo("示例区档案馆", "", 2022, "project", framework="project")


@pytest.fixture(scope="session")
def template_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("templates")


@pytest.fixture(scope="session")
def wuhan_template(template_dir) -> Path:
    return write_plan(plan_for(WUHAN), template_dir / "wuhan.xlsx")


@pytest.fixture(scope="session")
def wuchang_template(template_dir) -> Path:
    return write_plan(plan_for(WUCHANG), template_dir / "wuchang.xlsx")


@pytest.fixture(scope="session")
def blank_project_template(template_dir) -> Path:
    return write_plan(plan_for(BLANK_PROJECT), template_dir / "blank_project.xlsx")


@pytest.fixture
def clean_env(monkeypatch):
    """No roster or targets file of an earlier `check --roster/--targets` in this process: the
    CLI leaves them in the environment for its worker processes."""
    from xltool.check.reader import ROSTER_ENV, TARGETS_ENV

    for name in (ROSTER_ENV, TARGETS_ENV):
        monkeypatch.delenv(name, raising=False)
    yield
    for name in (ROSTER_ENV, TARGETS_ENV):
        os.environ.pop(name, None)
