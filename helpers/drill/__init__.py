"""The failover drill: break the primary under load, measure RTO and RPO, fail back losing nothing.

On a workshop deployed through notebook 03.3, :func:`run`

1. starts a traffic generator: a background thread that, at ``rate`` requests
   a second, creates tickets, lists them and calls ``/health`` (as the web UI
   does) through ``https://api.<domain>/``, exactly like a browser: its DNS
   answer is cached for the answer's TTL (:func:`helpers.connect.net.request`), and
   each answer's ``X-Workshop-Region`` says which region served it;
2. starts probes: the health check's verdict
   (:func:`helpers.aws.failover.health_check_status`) and the authoritative DNS
   answer for ``api.<domain>`` (:func:`helpers.aws.failover.dns_answer`);
3. injects one fault into the primary (:data:`SCENARIOS`), and measures

   * ``detection_seconds``: fault → the health check turns unhealthy;
   * ``dns_switch_seconds``: fault → DNS answers the secondary;
   * ``rto_seconds``: the first user request that failed → the first
     successful request served by the secondary;
   * ``rpo_items_at_switch``: writes the primary acknowledged that the
     secondary did not hold when DNS switched, and ``rpo_seconds_at_switch`` the
     RPO as a window of time: from the oldest such write's acknowledgement to the
     switch (real time: replication is not scaled);
   * ``rpo_items_after_drain`` / ``rpo_seconds_after_drain``: the same once
     replication has drained (must be 0);
   * ``failed_by_route()``: which routes failed, so the RTO says whose outage it
     measures (a bad deploy breaks ``GET /health`` alone);

4. reconciles: tickets written to the secondary during the failover are
   copied into the primary (items the primary lacks or holds an older version
   of, by the replicator's own rule), then restores the fault, watches health,
   DNS and traffic return, reconciles the last writes the secondary took while
   clients still held its address, and checks that every acknowledged write
   is in the primary (``lost_items``, must be 0).

Every duration of :meth:`DrillResult.table` gives its clock and its figure on
AWS's clock (scaled ones divided by the time scale). The measured times are
compared with the theoretical bound - the health
check's request interval x failure threshold, plus the DNS TTL a client
caches, on the sandbox clock (x :func:`helpers.connect.net.time_scale`) - and with a
15-minute recovery time objective (on AWS's clock).

``run(..., live=True)`` in a notebook shows a timeline that redraws while the
drill runs; :func:`drill_timeline` draws the final one.

The package, each module depending only on those above it:

* :mod:`~helpers.drill.scenarios`: the faults, how each is undone, whether a drill can start;
* :mod:`~helpers.drill.bound`: the theoretical bound, its margin, the recovery objective;
* :mod:`~helpers.drill.result`: :class:`DrillResult`, every figure as JSON or a table;
* :mod:`~helpers.drill.charts`: the timeline, and its live redraw in a notebook;
* :mod:`~helpers.drill.engine`: :func:`run` (traffic, probes, fault, figures), :func:`reconcile`;
* :mod:`~helpers.drill.command`: ``workshop drill``.
"""

from helpers.drill.bound import (
    BOUND_FACTOR,
    BOUND_SLACK_SECONDS,
    OBJECTIVE_SECONDS,
    theoretical_bound,
    within_bound,
)
from helpers.drill.charts import drill_timeline
from helpers.drill.command import command
from helpers.drill.engine import DEFAULT_RATE, reconcile, run
from helpers.drill.result import DrillResult
from helpers.drill.scenarios import (
    SCENARIOS,
    DrillNotReady,
    DrillUnavailable,
    Scenario,
    available,
    check_ready,
    restore,
    throttled,
)

__all__ = ["BOUND_FACTOR", "BOUND_SLACK_SECONDS", "DEFAULT_RATE", "OBJECTIVE_SECONDS",
           "SCENARIOS", "DrillNotReady", "DrillResult", "DrillUnavailable", "Scenario",
           "available", "check_ready", "command", "drill_timeline", "reconcile", "restore",
           "run", "theoretical_bound", "throttled", "within_bound"]
