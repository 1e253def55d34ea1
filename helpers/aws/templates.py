"""Excerpts of the CloudFormation templates a module teaches, read from ``templates/`` each time.

A notebook shows the settings that matter as the template really has them,
never as a copy that could drift: :func:`excerpt` reads the file when the
cell runs and renders the chosen properties of a resource as YAML, each with
one sentence on why it is set that way. A property the template no longer has
fails the cell, so the notebook cannot explain a setting that is gone.
"""

from __future__ import annotations

import html
import re
import textwrap
from dataclasses import dataclass, field
from typing import Any

import yaml

from helpers.base.paths import TEMPLATES

WIDTH = 88
# PyYAML quotes a tagged scalar ('!Ref 'X''); the templates write it plain.
_QUOTED_TAG = re.compile(r"(![A-Za-z]+) '([\w.:${}/-]+)'")


class TemplateError(KeyError):
    """The template has no such resource or property."""


@dataclass(frozen=True)
class Tagged:
    """An intrinsic function in CloudFormation's short form (``!Ref X``, ``!GetAtt A.B``)."""

    tag: str
    value: Any


class _Loader(yaml.SafeLoader):
    pass


def _tagged(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Tagged:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return Tagged(suffix, value)


_Loader.add_multi_constructor("!", _tagged)


class _Dumper(yaml.SafeDumper):
    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        return super().increase_indent(flow, False)  # lists indented, as the templates write them


def _represent_tagged(dumper: yaml.SafeDumper, data: Tagged) -> yaml.Node:
    tag = f"!{data.tag}"
    if isinstance(data.value, list):
        return dumper.represent_sequence(tag, data.value, flow_style=True)
    if isinstance(data.value, dict):
        return dumper.represent_mapping(tag, data.value)
    return dumper.represent_scalar(tag, str(data.value))


_Dumper.add_representer(Tagged, _represent_tagged)


def load(name: str) -> dict[str, Any]:
    """``templates/<name>`` as data; intrinsic functions kept as :class:`Tagged`."""
    return yaml.load((TEMPLATES / name).read_text(), Loader=_Loader)  # noqa: S506 - safe loader


@dataclass
class Excerpt:
    """Rendered parts of templates, shown as YAML (text and HTML); ``+`` joins excerpts."""

    parts: list[tuple[str, str]] = field(default_factory=list)  # (heading, YAML with comments)

    def __add__(self, other: Excerpt) -> Excerpt:
        return Excerpt(self.parts + other.parts)

    def text(self) -> str:
        return "\n\n".join(f"# {heading}\n{body}" for heading, body in self.parts)

    def __repr__(self) -> str:
        return self.text()

    def _repr_html_(self) -> str:
        blocks = []
        for heading, body in self.parts:
            lines = [f"<span style='color:#2e7d32'>{html.escape(line)}</span>"
                     if line.lstrip().startswith("#") else html.escape(line)
                     for line in body.splitlines()]
            blocks.append(f"<div style='color:#616161;margin-top:0.4em'>{html.escape(heading)}"
                          f"</div><pre style='margin:0.2em 0'>{chr(10).join(lines)}</pre>")
        return "".join(blocks)


def excerpt(template: str, resource: str, why: dict[str, str],
            show: tuple[str, ...] = ()) -> Excerpt:
    """``resource`` of ``templates/<template>`` with the properties ``why`` names (in that
    order, each under its sentence) and those in ``show`` (without one).

    A ``!Ref`` to a template parameter notes the parameter's default beside it.
    """
    data = load(template)
    found = data.get("Resources", {}).get(resource)
    if found is None:
        raise TemplateError(f"templates/{template} has no resource {resource!r}")
    properties = found.get("Properties", {})
    parameters = data.get("Parameters", {})
    lines = [f"{resource}:", f"  Type: {found['Type']}", "  Properties:"]
    for name in [*why, *(n for n in show if n not in why)]:
        if name not in properties:
            raise TemplateError(f"templates/{template}: {resource} has no property {name!r}")
        if name in why:
            lines += textwrap.wrap(why[name], WIDTH - 6, initial_indent="    # ",
                                   subsequent_indent="    # ")
        rendered = yaml.dump({name: properties[name]}, Dumper=_Dumper, sort_keys=False,
                             default_flow_style=False, width=WIDTH).rstrip("\n").splitlines()
        rendered = [_QUOTED_TAG.sub(r"\1 \2", line) for line in rendered]
        value = properties[name]
        if isinstance(value, Tagged) and value.tag == "Ref" and value.value in parameters:
            default = parameters[value.value].get("Default")
            if default is not None:
                rendered[0] += f"  # parameter {value.value}, default {default}"
        lines += ["    " + line for line in rendered]
    return Excerpt([(f"templates/{template} · {resource}", "\n".join(lines))])
