"""`workshop run`: execute the numbered notebooks in order, headless.

The kernels get the settings the command resolved (:mod:`helpers.core.settings`)
as ``WORKSHOP_*`` variables, so the notebooks act on the same participant and
the settings form (notebook 00) keeps the saved settings unless the options
chose others; the same notebooks run unattended. Which notebooks run, in which
order, is the curriculum's (:mod:`helpers.core.curriculum`). Executed notebooks and HTML go to the
output folder, with an ``index.html`` that makes them a small static site
(:mod:`helpers.runs.run_index`); the first failing cell stops the run and is named.

Catching up: the checklist (:mod:`helpers.checklist`) is taken before the run
and after each notebook. A notebook whose module is already deployed and
working is skipped (``rerun`` runs it anyway), so ``workshop run --until 03.3``
continues from wherever a participant is; each notebook's report says which
checklist items it turned done.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from helpers.base.errors import WorkshopError
from helpers.base.paths import NOTEBOOKS
from helpers.base.say import Say
from helpers.connect import session
from helpers.core import curriculum, settings
from helpers.core.config import WorkshopConfig
from helpers.core.target import CAPABILITY_PROBES, LOCAL_SANDBOX
from helpers.runs.kernels import Kernel, KernelQueue, tell_notebook
from helpers.runs.run_index import NotebookRun

CELL_TIMEOUT_S = 900


class RunError(WorkshopError):
    """A notebook cell failed; the message names the notebook, the cell and the error."""


@dataclass
class RunReport:
    out_dir: Path
    notebooks: list[tuple[str, float]] = field(default_factory=list)  # (name, seconds) run
    sandbox_started: bool = False
    runs: list[NotebookRun] = field(default_factory=list)  # every notebook, skipped ones too
    before: Any = None  # the checklist (helpers.checklist.Status) before the run
    after: Any = None  # ... and after it (None when it could not be taken)

    @property
    def skipped(self) -> list[str]:
        return [r.name for r in self.runs if r.outcome == "skipped"]

    @property
    def turned_done(self) -> list[str]:
        return [item for r in self.runs for item in r.turned_done]

    @property
    def total_seconds(self) -> float:
        return sum(seconds for _, seconds in self.notebooks)


def numbered_notebooks(folder: Path | None = None) -> list[Path]:
    """The curriculum's notebooks present in ``folder`` (notebooks/), in order."""
    folder = folder or NOTEBOOKS
    return [folder / m.notebook for m in curriculum.CURRICULUM if (folder / m.notebook).exists()]


def select(notebooks: list[Path], until: str | None) -> list[Path]:
    if until is None:
        return notebooks
    try:
        wanted = {m.notebook for m in curriculum.up_to(until)}
    except ValueError:
        raise RunError(f"--until takes a notebook number such as 03.2, not {until!r}") from None
    chosen = [p for p in notebooks if p.name in wanted]
    if not chosen:
        raise RunError(f"no notebook is numbered {until} or lower")
    return chosen


def run(config: WorkshopConfig, out_dir: Path, until: str | None = None,
        say: Say = print, record: bool = False,
        rerun: bool = False, keep_kernels: list[Kernel] | None = None) -> RunReport:
    """Execute the notebooks in order; ``record`` writes their outputs back into notebooks/.

    A notebook whose module the checklist finds done (deployed and working) is
    skipped unless ``rerun`` or ``record`` is set. With ``keep_kernels``, each notebook's
    kernel is left running and added to that list, as for a learner who keeps every
    notebook open (`workshop bench` measures them; the caller shuts them down).
    """
    notebooks = select(numbered_notebooks(), until)
    if not notebooks:
        raise RunError(f"no numbered notebooks in {NOTEBOOKS}: nothing to run yet")
    out_dir.mkdir(parents=True, exist_ok=True)
    session.use_mode(config.mode)  # the run's own checks look where the notebooks deploy
    report = RunReport(out_dir)
    with KernelQueue(NOTEBOOKS, env=settings.as_environment(config)) as kernels, ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="html") as pages:  # pages beside the next run
        kernels.prepare(len(notebooks))  # kernels boot beside the sandbox and the first checklist
        _run_notebooks(config, notebooks, report, kernels, pages, say, record, rerun,
                       keep_kernels)
    return report


def _run_notebooks(config: WorkshopConfig, notebooks: list[Path], report: RunReport,
                   kernels: KernelQueue, pages: ThreadPoolExecutor,
                   say: Say, record: bool, rerun: bool,
                   keep_kernels: list[Kernel] | None) -> None:
    time_scale = None
    if config.target.supports(LOCAL_SANDBOX):
        from helpers.sandbox import process

        if process.read_status() is None:
            say("starting a sandbox for this run (it stops at the end)")
            process.up()
            report.sandbox_started = True
        else:
            say("using the running sandbox (left running afterwards)")
        time_scale = (process.read_status() or {}).get("time_scale")
    if config.target.supports(CAPABILITY_PROBES):  # what it can run, probed once per endpoint
        from helpers.connect import endpoint_probes
        from helpers.core import capabilities

        say(capabilities.runnable(endpoint_probes.ensure(config)))
    try:
        latest = report.before = _checklist(config, say)
        if latest is not None:
            say(f"checklist before the run: {_summary(latest)}")
        for position, path in enumerate(notebooks):
            module = _module_of(path.name)
            if (module and latest is not None and not (record or rerun)
                    and latest.live_done(module)):
                say(f"skipping {path.name}: module {module} is already deployed and working "
                    "(--rerun runs it anyway)")
                report.runs.append(NotebookRun(path.name, "skipped"))
                continue
            started = time.monotonic()
            say(f"running {path.name} ...")
            kernel = kernels.take(still_to_run=len(notebooks) - position - 1)
            try:
                _execute(path, path.parent if record else report.out_dir, kernel,
                         pages=None if record else pages)
            except BaseException:
                report.runs.append(NotebookRun(path.name, "failed",
                                               time.monotonic() - started))
                raise
            finally:
                if keep_kernels is None:
                    kernels.release(kernel)
                else:
                    keep_kernels.append(kernel)
            seconds = time.monotonic() - started
            report.notebooks.append((path.name, seconds))
            after = _checklist(config, say)
            turned = _turned_done(latest, after)
            report.runs.append(NotebookRun(path.name, "ran", seconds, turned))
            say(f"  done in {seconds:.1f} s" + (f"; checklist items now done: {len(turned)}"
                                                 if turned else ""))
            for item in turned:
                say(f"    ✓ {item}")
            latest = after if after is not None else latest
        report.after = latest
        if latest is not None:
            say(f"checklist after the run: {_summary(latest)}")
    finally:
        pages.shutdown(wait=True)  # the index links every page
        if not record:
            _write_index(report, config, time_scale, say)
        if report.sandbox_started:
            from helpers.sandbox import process

            process.down()


def _checklist(config: WorkshopConfig, say: Say) -> Any:
    """The participant's checklist now, or None (said why) when it cannot be taken."""
    from helpers import checklist

    try:
        return checklist.check(config)
    except Exception as exc:  # the run itself does not depend on the checklist
        say(f"  (checklist unavailable: {type(exc).__name__}: {exc})")
        return None


def _module_of(notebook: str) -> str | None:
    """The checklist module a notebook completes (None for the set-up)."""
    module = curriculum.by_notebook(notebook)
    return module.id if module in curriculum.MODULES else None


def _turned_done(before: Any, after: Any) -> list[str]:
    from helpers import checklist

    if before is None or after is None:
        return []
    return checklist.turned_done(before, after)


def _summary(status: Any) -> str:
    done = ", ".join(status.done) or "none"
    nxt = status.next
    return (f"modules done: {done}; " + (f"next: {nxt['hint']}" if nxt else "complete"))


def _write_index(report: RunReport, config: WorkshopConfig, time_scale: float | None,
                 say: Say) -> None:
    from helpers.runs import run_index

    try:
        page = run_index.write(report.out_dir, config, report.runs, report.after, time_scale)
    except Exception as exc:  # a missing index must not hide the run's own outcome
        say(f"(could not write the index page: {type(exc).__name__}: {exc})")
        return
    say(f"index of the executed notebooks: {page}")


def _execute(path: Path, out_dir: Path, kernel: Kernel,
             pages: ThreadPoolExecutor | None = None) -> None:
    """Run one notebook in ``kernel``; with ``pages``, its HTML is written there meanwhile."""
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.read(path, as_version=4)
    tell_notebook(kernel, path)
    client = NotebookClient(notebook, km=kernel.manager, timeout=CELL_TIMEOUT_S,
                            resources={"metadata": {"path": str(path.parent)}})
    try:
        _run_client(client, notebook, path, out_dir)
    finally:  # a failed notebook's page shows the error where it happened
        if client.kc is not None:  # ours to close: the kernel was handed in
            client.kc.stop_channels()
        if pages is not None:
            pages.submit(_write_html, notebook, out_dir / path.with_suffix(".html").name)


def _write_html(notebook: Any, target: Path) -> None:
    from nbconvert import HTMLExporter

    body, _ = HTMLExporter().from_notebook_node(notebook)
    target.write_text(body)


def _run_client(client, notebook, path: Path, out_dir: Path) -> None:
    import nbformat
    from nbclient.exceptions import CellExecutionError

    try:
        client.execute()
    except CellExecutionError as exc:
        cell = _failed_cell(notebook)
        if exc.ename == "EndpointLacksCapability":  # the sentence says it all
            raise RunError(f"{path.name} stopped at cell {cell}: {exc.evalue}") from None
        raise RunError(f"{path.name}, cell {cell}: {exc.ename}: {exc.evalue}") from None
    finally:
        nbformat.write(notebook, out_dir / path.name)


def _failed_cell(notebook) -> str:
    code_cells = [c for c in notebook.cells if c.cell_type == "code"]
    for number, cell in enumerate(code_cells, start=1):
        if any(o.get("output_type") == "error" for o in cell.get("outputs", [])):
            return f"#{number} (code cell {number} of {len(code_cells)})"
    return "unknown"
