"""`workshop run`: execute the numbered notebooks in order, headless.

Widgets take their values from the options / ``WORKSHOP_*`` environment, so
the same notebooks run unattended. Executed notebooks and HTML go to the
output folder; the first failing cell stops the run and is named.
"""

from __future__ import annotations

import os
import re
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from helpers.config import WorkshopConfig
from helpers.paths import NOTEBOOKS

_NUMBERED = re.compile(r"^(\d\d(?:\.\d)?)-.+\.ipynb$")
CELL_TIMEOUT_S = 900


class RunError(RuntimeError):
    """A notebook cell failed; the message names the notebook, the cell and the error."""


@dataclass
class RunReport:
    out_dir: Path
    notebooks: list[tuple[str, float]] = field(default_factory=list)  # (name, seconds)
    sandbox_started: bool = False

    @property
    def total_seconds(self) -> float:
        return sum(seconds for _, seconds in self.notebooks)


def numbered_notebooks(folder: Path = NOTEBOOKS) -> list[Path]:
    found = [p for p in folder.glob("*.ipynb") if _NUMBERED.match(p.name)]
    return sorted(found, key=lambda p: _number(p.name))


def _number(name: str) -> tuple[int, ...]:
    match = _NUMBERED.match(name)
    assert match
    return tuple(int(part) for part in match.group(1).split("."))


def select(notebooks: list[Path], until: str | None) -> list[Path]:
    if until is None:
        return notebooks
    try:
        limit = tuple(int(part) for part in until.split("."))
    except ValueError:
        raise RunError(f"--until takes a notebook number such as 03.2, not {until!r}") from None
    chosen = [p for p in notebooks if _number(p.name) <= limit]
    if not chosen:
        raise RunError(f"no notebook is numbered {until} or lower")
    return chosen


def run(config: WorkshopConfig, out_dir: Path, until: str | None = None,
        say: Callable[[str], None] = print, record: bool = False) -> RunReport:
    """Execute the notebooks in order; ``record`` writes their outputs back into notebooks/."""
    notebooks = select(numbered_notebooks(), until)
    if not notebooks:
        raise RunError(f"no numbered notebooks in {NOTEBOOKS}: nothing to run yet")
    out_dir.mkdir(parents=True, exist_ok=True)
    _export_config(config)
    report = RunReport(out_dir)
    if config.mode == "sandbox":
        from helpers.sandbox import process

        if process.read_status() is None:
            say("starting a sandbox for this run (it stops at the end)")
            process.up()
            report.sandbox_started = True
        else:
            say("using the running sandbox (left running afterwards)")
    try:
        for path in notebooks:
            started = time.monotonic()
            say(f"running {path.name} ...")
            _execute(path, path.parent if record else out_dir, html=not record)
            seconds = time.monotonic() - started
            report.notebooks.append((path.name, seconds))
            say(f"  done in {seconds:.1f} s")
    finally:
        if report.sandbox_started:
            from helpers.sandbox import process

            process.down()
    return report


def _export_config(config: WorkshopConfig) -> None:
    for key, value in config.as_dict().items():
        os.environ[f"WORKSHOP_{key.upper()}"] = str(value).lower() if isinstance(
            value, bool) else value


def _execute(path: Path, out_dir: Path, html: bool = True) -> None:
    import nbformat
    from nbclient import NotebookClient
    from nbconvert import HTMLExporter
    from traitlets.config import Config

    notebook = nbformat.read(path, as_version=4)
    with tempfile.TemporaryDirectory(prefix="workshop-kernel-") as sockets:
        # Local IPC sockets: the kernel is reachable by this user only (TCP would
        # be open to anyone on the machine, and the kernel warns about it).
        ipc = Config({"KernelManager": {"transport": "ipc",
                                        "ip": os.path.join(sockets, "kernel")}})
        client = NotebookClient(notebook, config=ipc, kernel_name="python3",
                                timeout=CELL_TIMEOUT_S,
                                resources={"metadata": {"path": str(path.parent)}})
        _run_client(client, notebook, path, out_dir)
    if html:
        body, _ = HTMLExporter().from_notebook_node(notebook)
        (out_dir / path.with_suffix(".html").name).write_text(body)


def _run_client(client, notebook, path: Path, out_dir: Path) -> None:
    import nbformat
    from nbclient.exceptions import CellExecutionError

    try:
        client.execute()
    except CellExecutionError as exc:
        cell = _failed_cell(notebook)
        raise RunError(f"{path.name}, cell {cell}: {exc.ename}: {exc.evalue}") from None
    finally:
        nbformat.write(notebook, out_dir / path.name)


def _failed_cell(notebook) -> str:
    code_cells = [c for c in notebook.cells if c.cell_type == "code"]
    for number, cell in enumerate(code_cells, start=1):
        if any(o.get("output_type") == "error" for o in cell.get("outputs", [])):
            return f"#{number} (code cell {number} of {len(code_cells)})"
    return "unknown"
