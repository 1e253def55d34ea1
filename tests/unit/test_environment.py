"""pyproject.toml and environment.yml pin the same dependencies."""

from __future__ import annotations

import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def _pyproject_pins() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pins = set(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        pins.update(extra)
    return pins


def _conda_pins() -> set[str]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    return {p for p in pip_section if not p.startswith("-e")}


def test_environment_yml_pins_exactly_the_pyproject_dependencies():
    assert _conda_pins() == _pyproject_pins()


def test_every_dependency_is_pinned_to_one_version():
    unpinned = [p for p in _pyproject_pins() if "==" not in p]
    assert unpinned == []


def test_environment_yml_uses_a_supported_python():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    python = next(d for d in env["dependencies"] if isinstance(d, str) and d.startswith("python"))
    major, minor = (int(x) for x in python.split("=")[1].split("."))
    assert (major, minor) >= (3, 11)


def test_the_learners_tools_come_with_the_default_install():
    """`make lab` installs nothing more: JupyterLab, its kernel and the widgets the notebooks
    show are default dependencies, not an extra a learner must know to ask for."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    default = {pin.split("==")[0] for pin in project["dependencies"]}
    assert {"jupyterlab", "ipykernel", "ipywidgets"} <= default
    assert "lab" not in project.get("optional-dependencies", {})
    assert "[lab]" not in (ROOT / "Makefile").read_text()
