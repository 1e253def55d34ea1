"""``memory_mb_per_learner`` (`workshop bench`): what a learner holds, the sandbox with its
Lambda processes at their peak plus the kernels idle culling leaves, measured from the
processes themselves, with the kernel count stated; no kernel outlives the measurement.
The fast test runs notebooks 00-01; the long one the whole workshop, against the goal."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest

from helpers.runs import bench

SERVER_MB = 124  # the learner's Jupyter server, measured on JupyterHub (tests/hub/)


def _our_kernels() -> set[int]:
    """Kernels this test process started and that still run (the machine may run others)."""
    children = set()
    for task in Path("/proc/self/task").iterdir():
        with contextlib.suppress(OSError):
            children |= {int(pid) for pid in (task / "children").read_text().split()}
    return {pid for pid in children if b"ipykernel_launcher" in _cmdline(pid)}


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def test_a_learner_s_memory_counts_the_sandbox_and_the_kernels_culling_leaves():
    found = bench.learner_memory(say=lambda _line: None, until="01")
    details = found["memory_per_learner"]
    rss = details["kernel_rss_mb_by_notebook"]
    assert list(rss) == ["00-set-up.ipynb", "01-api-layer.ipynb"]
    assert details["kernels_counted"] == bench.KERNELS_LEFT_BY_CULLING == 2
    peak = details["sandbox_peak"]
    # Module 1 ran its functions: the sandbox, its Lambda parent and workers all measured.
    assert peak["sandbox_mb"] > 50 and peak["zygote_mb"] > 0 and peak["workers"] >= 1
    assert all(mb > 50 for mb in rss.values()), rss  # a kernel that imported the kit
    assert found["memory_mb_per_learner"] == pytest.approx(
        peak["total_mb"] + sum(rss.values()), abs=0.2)
    assert details["all_kernels_open_mb"] <= found["memory_mb_per_learner"]  # PSS <= RSS
    assert not _our_kernels()  # every kernel it kept is shut down


@pytest.mark.long
def test_a_learner_after_the_whole_workshop_fits_in_1_gb_with_idle_culling():
    found = bench.learner_memory(say=lambda _line: None)
    details = found["memory_per_learner"]
    assert len(details["kernel_mb_by_notebook"]) == 9
    assert found["memory_mb_per_learner"] + SERVER_MB <= bench.LEARNER_GOAL_MB, details
