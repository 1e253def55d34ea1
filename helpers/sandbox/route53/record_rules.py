"""Route 53 record-set rules moto does not enforce, refused as Route 53 documents them.

* A failover alias record must have Evaluate Target Health on. Route 53's API
  reference, ``ResourceRecordSet``, element ``Failover``: "For failover alias
  resource record sets, you must also include the EvaluateTargetHealth element
  and set the value to true." A CREATE or UPSERT of a failover alias record with
  ``EvaluateTargetHealth`` false is answered ``InvalidChangeBatch`` (HTTP 400)
  before moto sees it; the message is the sandbox's (AWS's wording is not
  published).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from werkzeug.wrappers import Request, Response

from helpers.sandbox.context import SandboxContext
from helpers.sandbox.route53.api import error_response

_RRSET = re.compile(r"^/2013-04-01/hostedzone/[^/]+/rrset/?$")


class Route53RecordRules:
    def __init__(self, ctx: SandboxContext) -> None:
        self.ctx = ctx

    def start(self) -> None:
        self.ctx.add_intercept(self.intercept)

    def stop(self) -> None:
        if self.intercept in self.ctx.intercepts:
            self.ctx.intercepts.remove(self.intercept)

    def intercept(self, request: Request) -> Response | None:
        if request.method != "POST" or not _RRSET.match(request.path):
            return None
        problems = failover_alias_problems(request.get_data())
        if not problems:
            return None
        return error_response(400, "InvalidChangeBatch", "; ".join(problems))


def failover_alias_problems(body: bytes) -> list[str]:
    """What in a ChangeResourceRecordSets body breaks the failover alias rule."""
    try:
        root = ET.fromstring(body)
    except ET.ParseError:
        return []  # moto answers a malformed body itself
    problems = []
    for change in root.iter():
        if _local(change.tag) != "Change":
            continue
        fields = {_local(e.tag): e for e in change.iter()}
        action = (fields["Action"].text or "") if "Action" in fields else ""
        if action.upper() == "DELETE" or "Failover" not in fields or "AliasTarget" not in fields:
            continue
        evaluate = fields.get("EvaluateTargetHealth")
        if evaluate is None or (evaluate.text or "").strip().lower() != "true":
            name = fields["Name"].text if "Name" in fields else "?"
            ident = fields["SetIdentifier"].text if "SetIdentifier" in fields else "?"
            problems.append(
                f"Invalid request: failover alias record [{name}] (set identifier {ident}) "
                "must have EvaluateTargetHealth set to true")
    return problems


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]
