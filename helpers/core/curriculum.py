"""The workshop's modules, written once: id, notebook, title, sections, what "done" means.

The checklist (:mod:`helpers.checklist`), the runner (:mod:`helpers.runs.runner`) and
the run site (:mod:`helpers.runs.run_index`) read this list; the notebooks' navigation
cells and the index's table are text in ``notebook_sources/`` that
``tests/unit/test_notebook_sources.py`` checks against it. A new notebook or a
renamed section changes here (and in those cells) only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType


@dataclass(frozen=True)
class Module:
    id: str  # "1", "3.2"; "0" is the set-up, which has no checklist items
    notebook: str  # file name in notebooks/
    title: str
    what_you_do: str  # the index notebook's summary of the module
    minutes: int
    cost: str  # on AWS, as the index notebook states it
    done_when: str  # what the checklist looks for, in one sentence
    # Checklist item id ("<module>/<name>") -> the notebook's section (a heading) that
    # gets it done.
    sections: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    # What the module needs from the service beyond storing resources
    # (helpers.core.capabilities names them); AWS and the sandbox have all of it.
    needs: tuple[str, ...] = ()

    @property
    def number(self) -> str:
        """The notebook's number, e.g. ``"03.1"``."""
        return self.notebook.split("-", 1)[0]

    @property
    def label(self) -> str:
        """The name the notebooks' navigation uses, e.g. ``Module 3.2 · Replicate the data``."""
        return self.title if self.id == "0" else f"Module {self.id} · {self.title}"


CURRICULUM: tuple[Module, ...] = (
    Module("0", "00-set-up.ipynb", "Set-up",
           "choose mode, regions, domain, prefix; preflight", 5, "—",
           "the settings are saved and every preflight check passes",
           MappingProxyType({"0/settings": "Your settings"})),
    Module("1", "01-api-layer.ipynb", "API layer",
           "table, functions and REST API in the primary", 10, "pennies",
           "the API stack runs in the primary region and its API answers /health and /ticket",
           MappingProxyType({
               "1/api-stack": "Deploy the stack",
               "1/api-answers": "Check: the deep health check"}), ("lambda",)),
    Module("2", "02-ui-layer.ipynb", "UI layer",
           "the web page on S3 website hosting", 5, "pennies",
           "the UI stack runs in the primary region and its website answers, naming its API",
           MappingProxyType({
               "2/ui-stack": "Deploy the bucket and upload the page",
               "2/ui-answers": "Check: the website answers"}), ("website",)),
    Module("3.1", "03.1-second-region.ipynb", "A second region",
           "the same stacks in the secondary", 10, "pennies",
           "both stacks run in the secondary region, its API answers from there, and its "
           "table is empty or a replica of the primary's",
           MappingProxyType({
               "3.1/stacks": "Deploy both stacks in the secondary",
               "3.1/api-answers": "Check: two APIs, two answers",
               "3.1/data": "Check: two APIs, two answers"}), ("lambda", "website")),
    Module("3.2", "03.2-replicate-data.ipynb", "Replicate the data",
           "streams, replicator, backfill, lag", 15, "pennies",
           "the replicator is attached to the primary table's stream and the secondary "
           "keeps up with the primary",
           MappingProxyType({
               "3.2/stack": "Deploy the replicator",
               "3.2/attached": "Deploy the replicator",
               "3.2/in-step": "Backfill what existed before"}), ("lambda", "streams")),
    Module("3.3", "03.3-route53-failover.ipynb", "Route 53 failover",
           "zone, certificates, custom domains, health check, failover records", 20,
           "zone 0.50 USD/month, health check 2.50 USD/month",
           "api.<domain> answers from the primary through failover records and a healthy "
           "health check, and both websites call it",
           MappingProxyType({
               "3.3/zone": "1 · The hosted zone",
               "3.3/certificates": "2 · Certificates in both regions",
               "3.3/custom-domains": "3 and 4 · Custom domains and regional names",
               "3.3/regional-records": "3 and 4 · Custom domains and regional names",
               "3.3/health-check": "5 · The health check",
               "3.3/failover-records": "6 · Failover records",
               "3.3/ui-on-api": "7 · Point the web UI at `api.<domain>`"}),
           ("health-checks", "dns")),
    Module("4", "04-test-failover.ipynb", "Test failover",
           "break the primary, watch the flip, restore", 15, "—",
           "the primary was broken by a bad deploy and restored afterwards",
           MappingProxyType({
               "4/broken": "Break it, and watch the flip",
               "4/restored": "Restore the primary"}), ("lambda", "health-checks", "dns")),
    Module("4.1", "04.1-global-tables.ipynb", "Global tables",
           "convert to a DynamoDB global table, re-run the drill, compare both methods", 20,
           "replicated writes 0.625 USD per million",
           "the primary's table is a global table with an ACTIVE replica in the secondary, "
           "both regions' functions use it, and the replicator is retired",
           MappingProxyType({
               "4.1/global-table": "Convert: a replica in the secondary",
               "4.1/functions": "Both regions' functions on the global table",
               "4.1/replicator-retired": "Convert: a replica in the secondary"}),
           ("lambda", "health-checks", "dns")),
    Module("5", "05-clean-up.ipynb", "Clean up",
           "delete everything and prove it", 5, "—",
           "nothing of the participant is left in either region, and the API stack shows "
           "as deleted",
           MappingProxyType({"5/nothing-left": "Module 5 · Clean up"})),
)

SET_UP = CURRICULUM[0]
# The modules the checklist follows (all but the set-up), in order.
MODULES: tuple[Module, ...] = CURRICULUM[1:]
# Checklist item id -> the section that gets it done.
SECTIONS: Mapping[str, str] = MappingProxyType(
    {item: section for m in CURRICULUM for item, section in m.sections.items()})


def module(module_id: str) -> Module:
    return next(m for m in CURRICULUM if m.id == module_id)


def by_notebook(notebook: str) -> Module | None:
    """The module whose notebook this is (None for the index and unknown files)."""
    return next((m for m in CURRICULUM if m.notebook == notebook), None)


def number_key(number: str) -> tuple[int, ...]:
    """``"03.2"`` -> ``(3, 2)``, to compare notebook numbers; ValueError if not a number."""
    return tuple(int(part) for part in number.split("."))


def up_to(number: str | None) -> tuple[Module, ...]:
    """The modules whose notebook number is ``number`` or lower (all of them for None)."""
    if number is None:
        return CURRICULUM
    limit = number_key(number)
    return tuple(m for m in CURRICULUM if number_key(m.number) <= limit)
