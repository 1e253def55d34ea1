"""The recipes for Binder and JupyterHub say what the kit needs: repo2docker finds its files,
every learner's server runs the kit's `start`, opens the index, culls idle servers, and is
sized by the measured memory per learner. (The long tier runs them on a real JupyterHub:
tests/hub/; `start` itself: tests/sandbox/test_start_hook.py.)"""

from __future__ import annotations

import os
import re

import yaml
from traitlets.config.loader import PyFileConfigLoader

from helpers.base.paths import REPO_ROOT

Z2JH = REPO_ROOT / "deploy" / "jupyterhub" / "config.yaml"
TLJH = REPO_ROOT / "deploy" / "tljh"
# What one learner holds after the whole workshop with idle culling (`workshop bench`,
# memory_mb_per_learner, docs/jupyterhub.md) plus their Jupyter server (tests/hub/), MiB.
MEASURED_LEARNER_MIB = 832 + 124


def _bytes(quantity: str) -> int:
    number, unit = re.fullmatch(r"([\d.]+)([KMG]i?)?", quantity).groups()
    scale = {"K": 10**3, "M": 10**6, "G": 10**9, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30}
    return int(float(number) * scale.get(unit or "", 1))


def test_repo2docker_finds_the_kit_s_files_at_the_top():
    # With a binder/ folder repo2docker would read only what is inside it.
    assert not (REPO_ROOT / "binder").exists()
    for name in ("postBuild", "start"):
        assert os.access(REPO_ROOT / name, os.X_OK), f"{name} is not executable"
    assert "-e ." in (REPO_ROOT / "environment.yml").read_text()  # the kit itself


def test_the_binder_link_opens_jupyterlab_on_the_index():
    readme = (REPO_ROOT / "README.md").read_text()
    link = re.search(r"\(https://mybinder\.org/v2/gh/[^)\s]+\)", readme)
    assert link, "README has no Launch on Binder link"
    assert "urlpath=lab/tree/notebooks/index.ipynb" in link.group()
    assert (REPO_ROOT / "notebooks" / "index.ipynb").is_file()


def test_zero_to_jupyterhub_runs_the_image_s_start_and_sizes_each_learner():
    config = yaml.safe_load(Z2JH.read_text())
    single = config["singleuser"]
    assert single["cmd"] == "jupyterhub-singleuser"  # repo2docker's entrypoint runs `start`
    assert (REPO_ROOT / single["defaultUrl"].removeprefix("/lab/tree/")).is_file()
    guarantee, limit = (_bytes(single["memory"][k]) for k in ("guarantee", "limit"))
    assert MEASURED_LEARNER_MIB * 2**20 <= guarantee <= limit
    assert config["cull"]["enabled"] is True
    assert "CHANGE-ME" in single["image"]["name"]  # the instructor's registry, not ours


def test_the_littlest_jupyterhub_starts_each_learner_with_the_kit_s_start(monkeypatch):
    monkeypatch.setenv("WORKSHOP_KIT", str(REPO_ROOT))
    config = PyFileConfigLoader("workshop.py", path=str(TLJH)).load_config()
    start, server = config.Spawner.cmd
    assert start == str(REPO_ROOT / "start") and os.access(start, os.X_OK)
    assert server == "jupyterhub-singleuser"
    assert (REPO_ROOT / config.Spawner.default_url.removeprefix("/lab/tree/")).is_file()
    installer = (TLJH / "install.sh").read_text()
    assert "jupyterhub_config.d" in installer and "tljh-config set limits.memory" in installer
