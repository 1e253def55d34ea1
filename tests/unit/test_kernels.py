"""Kernels started two notebooks ahead: each notebook still gets a fresh kernel of its own,
the kit is already imported in it, and nothing is left running or on disk afterwards."""

from __future__ import annotations

import os

import nbformat
from nbclient import NotebookClient

from helpers.base.paths import NOTEBOOKS
from helpers.runs.kernels import KernelQueue


def run(kernel, *sources: str):
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])
    client = NotebookClient(notebook, km=kernel.manager, timeout=120)
    try:
        client.execute()
    finally:
        client.kc.stop_channels()
    return notebook.cells


def output(cell) -> str:
    return "".join(o.get("text", "") for o in cell.outputs)


def test_each_notebook_gets_a_fresh_warm_kernel_and_nothing_is_left():
    with KernelQueue(NOTEBOOKS) as kernels:
        kernels.prepare(3)  # three notebooks to run: two kernels start at once
        assert kernels.starting == 2
        first = kernels.take(still_to_run=2)
        assert kernels.starting == 2  # the next two notebooks' kernels
        cells = run(first,
                    "import sys, os; print('helpers.views.progress' in sys.modules, os.getcwd())",
                    "leftover = 42; print(os.getpid())")
        assert output(cells[0]).split() == ["True", str(NOTEBOOKS)]
        assert [c.execution_count for c in cells] == [1, 2]  # the imports ran silently
        first_pid = int(output(cells[1]))
        kernels.release(first)

        second = kernels.take(still_to_run=0)
        assert kernels.starting == 1  # already started for the second notebook; not replaced
        cells = run(second, "print('leftover' in globals(), os.getpid() if 'os' in globals() "
                            "else __import__('os').getpid())")
        fresh, second_pid = output(cells[0]).split()
        assert fresh == "False" and int(second_pid) != first_pid
        sockets = [first.sockets, second.sockets]
        kernels.release(second)
    for folder in sockets:
        assert not os.path.exists(folder)
    for pid in (first_pid, int(second_pid)):
        assert not alive(pid)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (exited, not yet reaped by the kernel manager's Popen) counts as gone.
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split()[2] != "Z"
    except FileNotFoundError:
        return False
