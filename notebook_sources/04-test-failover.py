# %% [markdown]
# <!--NAVIGATION-->
# [← Module 3.3 · Route 53 failover](03.3-route53-failover.ipynb) · [Contents](index.ipynb) · [Module 4.1 · Global tables →](04.1-global-tables.ipynb)

# %% [markdown]
# # Module 4 · Break the primary and watch it fail over
#
# A failover you have never seen happen is a hope, not a plan. This notebook
# breaks the primary the way a bad deployment would: the `/health` route is
# wired to the wrong function (the ticket-post function, which refuses a
# request without a ticket) and the `prod` stage is redeployed. Nothing else
# changes — the table and the other routes still work — but the deep health
# check now fails.
#
# **You will know it worked** when the health check turns unhealthy, DNS
# answers `api.<domain>` with the secondary, requests are served by the
# secondary region, and the application keeps listing and creating tickets.
# Then you restore the primary and watch everything come back.

# %%
from helpers import state

config = state.current_config()
print(config.describe())

# %%
from helpers import charts, deployment, drill, failover, monitor, net, tickets

primary, secondary = config.regions
api = f"https://{config.api_host()}/"
status, body, served_by = tickets.health(api)
print(f"before: {api}health answered by {body['region']}")
assert body["region"] == primary
print("Keep the web UI open during the break:", deployment.website_url(config, primary))


# %% [markdown]
# ## Break it, and watch the flip
#
# The probe below samples, four times a second: the health check's verdict,
# the region that DNS answers `api.<domain>` with, and the region that served
# a request to `https://api.<domain>/health` from this notebook. Two seconds
# in, it makes a bad deploy with two API Gateway operations:
#
# 1. **`PutIntegration`** on `GET /health`: the method's integration now invokes
#    the ticket-post function instead of the health-check function;
# 2. **`CreateDeployment`** on the stage `prod`: the change goes live.
#
# Both are listed, with their AWS CLI commands, under **AWS calls** below the
# cell, between the probe's reads.
#
# **How the three lanes flip.** The health checkers need a probe or two to
# notice (here one: threshold 1, a probe every 10 s on AWS, every second on the
# sandbox's clock). Route 53's answer follows their verdict at once, so the
# first two lanes flip within a sample of each other. The third lane is what
# this notebook — like any client — reached through its *cached* DNS answer for
# `api.<domain>`: it keeps that answer until its TTL runs out, so it follows
# anywhere from at once to one TTL after Route 53 switched, depending on when
# it last asked. The TTL is 60 s on AWS; in the sandbox it is on the sandbox's
# clock, 6 s at time scale 0.1, which is why everything here is over in a few
# seconds. So the lanes need not flip one after another: when the cached answer
# happens to expire between the two samples around Route 53's switch, all three
# flip in the same sample; otherwise the last lane follows up to a TTL later
# (recorded runs of this cell have shown both, from 0 to 6 s; the fail-back
# below shows it too). The cell prints how long clients took to follow.
#
# The cell checks each moment against the workshop's **expected bound**:
# request interval × failure threshold + TTL, (10 s × 1 + 60 s) = 70 s on AWS,
# on the sandbox clock here (its time scale is printed with each duration), with
# a margin. The "on AWS" figure divides the whole measured time by the time
# scale, including the redeploy and the sandbox's own work, which do not
# shrink; it overstates a little. The bound is what this configuration should
# give, not a limit AWS promises. On AWS it can take longer: the checkers are
# not coordinated, each probe may wait up to 4 s to connect and 2 s for an
# answer, Route 53 calls the primary unhealthy only once 18 % or fewer of the
# checkers still report it healthy, and resolvers, operating systems and
# browsers may hold an answer past its TTL. Expect a minute or two, and measure
# it (the drill below).

# %%
def probe():
    # Effects first, causes after: a client follows DNS, and DNS follows the health check.
    # Asked in that order, a sample that sees an effect also sees its cause, however slowly
    # the three questions are answered; asked the other way round, a switch between two
    # questions would show the effect before its cause.
    try:
        served = tickets.health(api).served_by
    except Exception:  # nothing answered at all
        served = None
    answer = failover.dns_answer(config, config.api_host())
    healthy, _ = failover.health_check_status(config)
    return {"healthy": healthy, "dns_region": failover.answer_region(answer),
            "served_region": served}

BREAK_AT = 1.0
flip = monitor.watch(
    probe, timeout=600, interval=0.25, at={BREAK_AT: lambda: failover.break_primary(config)},
    until=lambda s: s.iloc[-1]["served_region"] == secondary, linger=1.0,
    chart=lambda s: charts.failover_timeline(s, [primary, secondary],
                                             time_scale=net.time_scale()))
moments = monitor.moments(flip, start=BREAK_AT, healthy=False, dns_region=secondary,
                          served_region=secondary)
labels = {"healthy=False": "health check unhealthy",
          f"dns_region={secondary}": "DNS answers the secondary",
          f"served_region={secondary}": "served by the secondary"}
# Request interval x failure threshold + TTL on this clock, with the drill's own margin.
limit = drill.within_bound(drill.theoretical_bound(config)["seconds"])
print(f"api.{config.domain} is now served by {flip.iloc[-1]['served_region']}")
for key, seconds in moments.items():
    assert seconds <= limit, f"{labels[key]}: {seconds:.1f} s after the break, over {limit:.1f} s"
    print(f"  {labels[key]}: {net.duration(seconds)} after the break, within the bound")
followed = moments[f"served_region={secondary}"] - moments[f"dns_region={secondary}"]
print(f"  clients followed Route 53 {net.duration(followed)} after it switched: their cached "
      f"answer's TTL ran out (it is {net.clock().describe('dns_record_ttl')})")

# %%
assert list(moments) == list(labels), f"detection, then DNS, then clients: {moments}"
status, body, served_by = tickets.health(f"https://{config.regional_host(primary)}/")
print(f"the primary itself still answers /health with {status}: {body['message'][:40]}…")
assert status >= 400

# %%
charts.failover_timeline(flip, [primary, secondary], time_scale=net.time_scale(),
                         events={"break": BREAK_AT,
                                 **{labels[k]: BREAK_AT + v for k, v in moments.items()}})

# %% [markdown]
# ## The application still works
#
# The UI calls `https://api.<domain>/`, so it now talks to the secondary,
# which already holds every replicated ticket. In the page you opened, press
# **Check again**: the banner now names the secondary (and the primary again
# after the restore below).

# %%
before = tickets.list_tickets(api)["Count"]
created = tickets.create_ticket(api, description="Filed during the failover", priority="urgent")
after = tickets.list_tickets(api)
print(f"listed {before} tickets, created one, now {after['Count']} (served by the secondary)")
assert after["Count"] == before + 1
assert any(t["id"] == created["id"] for t in after["Items"])

# %% [markdown]
# ## Restore the primary
#
# Wire `/health` back to the health-check function and redeploy: the reverse
# pair, `PutIntegration` (back to the health-check function) then
# `CreateDeployment` on `prod`. The health check recovers, DNS returns to the
# primary, and traffic follows once the cached answer expires.
#
# Tickets created during the failover live in the secondary only: replication
# runs primary → secondary. The module-5 clean-up removes them with everything
# else.

# %%
RESTORE_AT = 1.0
back = monitor.watch(
    probe, timeout=600, interval=0.25, at={RESTORE_AT: lambda: failover.restore_primary(config)},
    until=lambda s: s.iloc[-1]["served_region"] == primary, linger=1.0,
    chart=lambda s: charts.failover_timeline(s, [primary, secondary],
                                             time_scale=net.time_scale(),
                                             title="Fail-back to the primary"))
served_again = monitor.moments(back, start=RESTORE_AT, served_region=primary)
print(f"api.{config.domain} is served by {back.iloc[-1]['served_region']} again")
assert tickets.health(api).body["region"] == primary
assert all(seconds <= limit for seconds in served_again.values()), served_again

# %% [markdown]
# ## Measure it: a failover drill
#
# Watching the flip is convincing; the business requirement is a number:
# **RTO and RPO both under 15 minutes**. The drill repeats the bad deploy
# while a traffic generator creates and lists tickets through
# `https://api.<domain>/` a few times a second, then measures:
#
# * **detection** — fault until the health check calls the primary unhealthy;
# * **DNS switch** — fault until Route 53 answers with the secondary;
# * **RTO** — the first request that failed until the first request the
#   secondary served successfully, against the theoretical bound (request
#   interval × failure threshold + TTL);
# * **RPO** — the acknowledged writes the secondary did not hold yet at the
#   switch, as a **window of time**: from the oldest such write's
#   acknowledgement to the switch (0 s when it held them all); and the same
#   after replication has drained (which must be 0 writes).
#
# Each duration in the table gives its clock and its figure on AWS's clock:
# detection, the DNS switch, the RTO, the bound and the fail-back ran on the
# sandbox's scaled clock (so the AWS column divides them by the time scale,
# which overstates the part of them that ran in real time: the redeploy, the
# requests); the RPO's window is real time, as replication is, the same on AWS.
#
# **Which requests the RTO measures.** A bad deploy breaks one route, `GET
# /health`: listing and creating tickets keep working on the primary, which
# still answers them. So in this scenario the failed requests are all `/health`
# calls — what the web UI's banner makes — and the RTO is the outage of that
# route, not of ticket requests (the table counts the failed requests by route,
# and a note says so). The `throttle` and `region-outage` scenarios of
# `workshop drill` fail every route, and there the RTO is every user's.
#
# **What RPO means.** The recovery point objective is a window of time: how
# much recent writing you may lose. With asynchronous replication that window
# is the replication lag at the moment of failure — the lag notebook 03.2's
# histogram measured, about a second at most. The drill's "0 after drain"
# holds only because its faults (a bad deploy, a throttle, even its simulated
# outage) leave the primary's table and stream working, so the replicator
# catches up. In a real region loss the primary's table is out of reach: the
# writes acknowledged in that last window and not yet replicated are lost, or
# stranded until the region returns. The honest RPO of this design is that
# lag, not 0.
#
# Before failing back it copies the tickets written to the secondary during
# the failover into the primary, so none is lost. The same drill runs from a
# terminal with `workshop drill` (`--scenario throttle` or `region-outage` for
# other faults).

# %%
# NBVAL_IGNORE_OUTPUT
from helpers import drill

result = drill.run(config, scenario="bad-deploy", live=True)
result.table()

# %% [markdown]
# **Reading the timeline.** Top, one mark per request on its route's row,
# coloured by the region that served it; red crosses failed. Middle, the share
# of health checkers reporting the primary healthy (the dotted line is 18 %)
# and Route 53's verdict above it. Bottom, where `api.<domain>` points: on the
# **Route 53** row, Route 53's own answer (asked of the zone's name servers, no
# cache between); on the **client (cached)** row, the answer the traffic
# generator used for each request, from its cache, which follows Route 53 up
# to a TTL later. The dashed lines: **fault** — the bad deploy is in place (its
# two API calls have answered); **first failure** — the first request that
# failed once the fault began (the RTO's start; it can come just before
# *fault*, a request sent while the redeploy was going live); **detected**
# and **DNS switched** — the first probe that saw the check unhealthy and
# Route 53 answer the secondary; **recovered** — the first request the
# secondary served (the RTO's end); **restore**, **DNS back** and **failed
# back** — the same on the way back. Moments at the same time share a label.

# %%
drill.drill_timeline(result)

# %%
assert result.rpo_items_after_drain == 0, "an acknowledged write never reached the secondary"
assert result.lost_items == 0, "an acknowledged write is missing after fail-back"
assert result.meets_objective, "RTO over the 15-minute objective"
assert result.rto_seconds <= drill.within_bound(result.theoretical_bound_seconds), result.summary()
print(f"RTO within the bound (request interval x failure threshold + TTL, with margin) and the "
      f"15-minute objective; RPO after drain {result.rpo_items_after_drain} writes "
      f"({net.real_time(result.rpo_seconds_after_drain or 0.0, 2)}); tickets written during the "
      "failover reconciled into the primary; nothing lost")

# %% [markdown]
# ## Your progress
#
# What is now deployed and working, checked against the real resources (the
# same list as `workshop status` in a terminal):

# %%
# NBVAL_IGNORE_OUTPUT
from helpers import progress

progress.show(config)

# %% [markdown]
# The deployment as it stands, drawn from the same checks: what is not
# deployed yet is faded, anything failing its check is red, and the green
# arrow shows the region DNS answers `api.<domain>` with now.

# %%
from helpers import architecture

architecture.show(config)

# %% [markdown]
# ## Troubleshooting
#
# * *The flip never comes (timeout)* — the health check must be healthy and `api.<domain>` must answer from the primary before you start: re-run notebook 03.3's sections 5 and 6.
# * *The notebook stopped between the break and the restore* — the primary stays broken (`workshop status` says so): run "Restore the primary", or `failover.restore_primary(config)` in a cell.
# * *Fail-back takes a while* — clients keep their cached DNS answer until its TTL runs out (60 s on AWS; 6 s on the sandbox's clock at time scale 0.1).

# %% [markdown]
# <!--NAVIGATION-->
# [← Module 3.3 · Route 53 failover](03.3-route53-failover.ipynb) · [Contents](index.ipynb) · [Module 4.1 · Global tables →](04.1-global-tables.ipynb)
