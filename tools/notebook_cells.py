"""The cells of each workshop notebook (see build_notebooks.py)."""

from helpers.curriculum import CURRICULUM

SETUP = """from helpers import state
config = state.current_config()
print(config.describe())"""

# Closes every module's notebook: the checklist, checked against real resources.
PROGRESS = [
    ("md", """
## Your progress

What is now deployed and working, checked against the real resources (the
same list as `workshop status` in a terminal):
"""),
    ("code", """# NBVAL_IGNORE_OUTPUT
from helpers import progress

progress.show(config)"""),
]

CELLS: dict[str, list[tuple[str, str]]] = {}

CELLS["00-set-up.ipynb"] = [
    ("md", """
# Set-up: choose where the workshop runs

Over the next notebooks you will build a small support-ticket application
twice — once in a **primary** AWS region and once in a **secondary** one —
keep the two copies' data in step, and let Route 53 send users to whichever
copy is healthy. The business goal is a recovery time (RTO) and a data-loss
window (RPO) both under 15 minutes.

This notebook records your choices and checks that everything needed is in
reach. **You will know it worked** when the form below says *Saved* and the
preflight table shows only `yes`.
"""),
    ("md", """
## Your settings

* **Mode** — `sandbox` runs everything on this machine, offline and free;
  `aws` uses the account your AWS credentials point at, and costs a little
  money (see the table at the end).
* **Regions** — the primary serves traffic; the secondary takes over when
  the primary fails. They must differ.
* **Domain** — a name you control. In the sandbox any name works
  (`example.com` is reserved for examples). On AWS it must be a domain you
  own; the kit never buys one for you.
* **Participant prefix** — starts every resource name, so several people
  can share one account or one sandbox.
* **Create a hosted zone** — lets notebook 03.3 create a Route 53 zone for
  the domain when there is none. Untick it on AWS if your domain already has
  a zone (for example because you bought it through Route 53).

Errors appear beside the field as you type; a valid form is saved at once.
"""),
    ("code", """from helpers.widgets import SettingsForm

form = SettingsForm()
form"""),
    ("code", """config = form.config
assert config is not None, "Fix the fields marked in red above, then run this cell again."
print(config.describe())"""),
    ("md", """
## Preflight

Before creating anything, check that the control plane answers with working
credentials in both regions. In sandbox mode start the sandbox first with
`workshop sandbox up` in a terminal (`workshop run` starts one for you).
"""),
    ("code", """from helpers import preflight

checks = preflight.run(config)
preflight.as_table(checks)"""),
    ("code", """preflight.assert_ready(checks)
print("Ready: every check passed.")"""),
    ("md", """
## What it costs on AWS

In the sandbox nothing is billed. On AWS the workshop creates only
pay-per-use resources plus a hosted zone and a health check, which bill by
the month. Run notebook 05 the same day and the whole workshop stays
around a dollar:
"""),
    ("code", """preflight.cost_table()"""),
]

CELLS["01-api-layer.ipynb"] = [
    ("md", """
# Module 1 · The API layer

The application's back end is three Lambda functions behind an API Gateway
REST API, storing tickets in a DynamoDB table:

| route | function | does |
|---|---|---|
| `GET /ticket` | ticket-get | lists tickets, newest first, a page at a time |
| `POST /ticket` | ticket-post | validates and stores a new ticket |
| `GET /health` | health-check | reads the table: the "deep ping" Route 53 will use later |

Everything is one CloudFormation stack, `templates/api.yaml`, deployed to the
primary region. **You will know it worked** when the empty API answers
`{"Items":[],"Count":0,"ScannedCount":0}` and `/health` names your primary
region.
"""),
    ("code", SETUP),
    ("md", """
## Deploy the stack

The helper zips `lambda_src/` (the same sources always give the same bytes,
so a second deploy changes nothing), uploads it to an artifacts bucket in
the region and creates or updates the stack. The bar advances with each
CloudFormation event.

*On AWS this creates:* a DynamoDB table (on-demand), three Lambda functions
with their roles and log groups, a REST API, and an S3 bucket for the code.
"""),
    ("code", """from helpers import deployment
from helpers.widgets import Progress

primary = config.primary_region
bar = Progress(total=30, description=f"api stack in {primary}")
api = deployment.deploy_api(config, primary, progress=bar)
bar.done("deployed")"""),
    ("code", """deployment.stack_outputs_table(config, kinds=["api"])"""),
    ("md", """
## Check: an empty ticket list

A new table holds no tickets, so the list comes back empty — in exactly the
shape the original workshop's front end expects.
"""),
    ("code", """from helpers import tickets

import json

api_url = api["ApiUrl"]
status, body = tickets.raw_get(api_url + "ticket")
assert status == 200, f"the API answered {status}: {body}"
already = json.loads(body)["Count"]
if already == 0:  # the first run: byte for byte what the original front end expects
    print(status, body)
    assert body == '{"Items":[],"Count":0,"ScannedCount":0}'
else:  # a re-run: the table keeps its tickets until notebook 05
    print(f"{status}: the table already holds {already} ticket(s) from an earlier run")"""),
    ("md", """
## Check: the deep health check

`/health` reads the table and reports the region that answered. Route 53
will call it in module 3 to decide whether the primary is fit to serve.
"""),
    ("code", """status, body, served_by = tickets.health(api_url)
print(status, body)
assert status == 200 and body["region"] == primary
assert body["message"] == "Successful response reading from DynamoDB table.\""""),
    ("md", """
## Try it: create a ticket

The post function validates the body before storing it. A ticket without a
description is refused with a message instead of being stored:
"""),
    ("code", """try:
    tickets.create_ticket(api_url, priority="high")
except tickets.ApiError as error:
    print(f"refused as expected: {error}")"""),
    ("code", """ticket = tickets.create_ticket(api_url, description="Bike 42 has a flat tyre",
                               priority="high", createdBy="learner")
print({k: ticket[k] for k in ("description", "priority", "status", "createdBy")})
assert ticket["id"] in {t["id"] for t in tickets.all_tickets(api_url)}"""),
    ("md", """
## Troubleshooting

* *"no sandbox is running"* — run `workshop sandbox up` in a terminal, then
  re-run the cells.
* *"stack … ended in ROLLBACK_COMPLETE"* — the message names the resource that
  failed; fix it and re-run: the helper deletes the failed stack and retries.
* *The empty-list check fails on a re-run* — the table keeps tickets from
  earlier runs; notebook 05 removes everything.
"""),
    *PROGRESS,
]

CELLS["02-ui-layer.ipynb"] = [
    ("md", """
# Module 2 · The UI layer

The front end is a static web page served straight from an S3 bucket with
website hosting turned on. It needs to know one thing: the API's base URL,
which the helper writes into `config.js` at upload time.

**You will know it worked** when the website URL answers with the ticket
page and its configuration points at the API from module 1.
"""),
    ("code", SETUP),
    ("md", """
## Deploy the bucket and upload the page

`templates/ui.yaml` creates the bucket and a bucket policy that lets anyone
*read* objects (`s3:GetObject`) and nothing else. The helper then uploads
`web/` and a generated `config.js`.

*On AWS this creates:* one S3 bucket with public read access to the page.
"""),
    ("code", """from helpers import deployment
from helpers.widgets import Progress

primary = config.primary_region
api_url = state.load(config.prefix)["stacks"]["api"][primary]["ApiUrl"]
bar = Progress(total=8, description=f"ui stack in {primary}")
ui = deployment.deploy_ui(config, primary, api_base_url=api_url, progress=bar)
bar.done("deployed")
deployment.stack_outputs_table(config, kinds=["ui"])"""),
    ("md", """
## Check: the website answers

Fetch the page and its configuration the way a browser would.
"""),
    ("code", """from helpers import net

page = net.request("GET", ui["BucketURL"])
settings = net.request("GET", ui["BucketURL"] + "/config.js")
print(page.status_code, page.headers["Content-Type"])
assert page.status_code == 200 and "Wild Rydes" in page.text
assert api_url in settings.text, "config.js should point at the module-1 API"
print("config.js points at", api_url.split("//")[0] + "//…/prod/")"""),
    ("md", """
Open the website URL (printed by the outputs table above) in a browser to
list and create tickets. The banner at the top shows which region served
each request — it will matter in module 4.

## Troubleshooting

* *403 from the website* — the bucket policy did not apply; re-run the deploy
  cell (the stack update restores it).
* *The page loads but shows "API unreachable"* — `config.js` points at an old
  API URL; re-run the deploy cell after module 1.
"""),
    *PROGRESS,
]

CELLS["03.1-second-region.ipynb"] = [
    ("md", """
# Module 3.1 · The same stacks in a second region

Resilience starts with a second, independent copy of the application. Here
the API and UI stacks from modules 1 and 2 go to the secondary region,
unchanged: same templates, same code, no link to the primary.

**You will know it worked** when the secondary has its own API URL and shows
**no** tickets — the ticket created in module 1 lives only in the primary
until the next notebook replicates the data.
"""),
    ("code", SETUP),
    ("md", """
## Deploy both stacks in the secondary

*On AWS this creates* the same resources as modules 1 and 2, in the
secondary region.
"""),
    ("code", """from helpers import deployment
from helpers.widgets import Progress

secondary = config.secondary_region
bar = Progress(total=38, description=f"stacks in {secondary}")
api2 = deployment.deploy_api(config, secondary, progress=bar)
ui2 = deployment.deploy_ui(config, secondary, api_base_url=api2["ApiUrl"], progress=bar)
bar.done("deployed")
deployment.stack_outputs_table(config)"""),
    ("md", """
## Check: two APIs, two answers

The primary still holds the ticket from module 1; the secondary is a
separate stack with an empty table.
"""),
    ("code", """from helpers import tickets

primary = config.primary_region
api1 = state.load(config.prefix)["stacks"]["api"][primary]
assert api1["ApiUrl"] != api2["ApiUrl"], "the secondary must have a URL of its own"
in_primary = tickets.list_tickets(api1["ApiUrl"])["Count"]
in_secondary = tickets.list_tickets(api2["ApiUrl"])["Count"]
print(f"tickets in {primary}: {in_primary}   tickets in {secondary}: {in_secondary}")
assert in_primary >= 1
if "replication" not in state.load(config.prefix).get("stacks", {}):
    assert in_secondary == 0, "nothing copies tickets yet, so the secondary must be empty"
else:  # a re-run after notebook 03.2: the secondary is a replica by now
    print("(notebook 03.2 has run before: the secondary holds replicated tickets)")"""),
    ("code", """status, body, served_by = tickets.health(api2["ApiUrl"])
print(status, body["region"])
assert status == 200 and body["region"] == secondary"""),
    *PROGRESS,
    ("md", """
## Troubleshooting

* *"stack … ended in ROLLBACK_COMPLETE" in the secondary* — as in module 1: fix the named resource and re-run; the failed stack is replaced.
* *The check finds tickets in the secondary* — expected only after notebook 03.2 has run; before that nothing copies tickets.
* *`/health` names the primary region* — you called the primary's URL; the outputs table lists both.
"""),
]

CELLS["03.2-replicate-data.ipynb"] = [
    ("md", """
# Module 3.2 · Replicate the data

Two copies of the application are only useful if the standby has the data.
The primary table already publishes every change on a DynamoDB stream (the
API stack turned it on). A replicator function reads that stream and writes
each change into the secondary region's table: new and changed tickets are
put, deleted ones removed. It writes in batches, never lets an older version
overwrite a newer one, and sends anything it cannot write to a queue instead
of dropping it.

**You will know it worked** when both tables hold the same tickets and new
tickets show up in the secondary within about a second.
"""),
    ("code", SETUP),
    ("md", """
## Deploy the replicator

`templates/replication.yaml` creates the function, a role that can read
only this stream and write only the secondary table, the event source
mapping that feeds it, and the on-failure queue.

*On AWS this creates:* one Lambda function, its role and log group, an event
source mapping and an SQS queue.
"""),
    ("code", """from helpers import deployment, replication, tickets
from helpers.widgets import Progress

primary, secondary = config.regions
bar = Progress(total=8, description="replication stack")
repl = deployment.deploy_replication(config, progress=bar)
bar.done("deployed")
deployment.stack_outputs_table(config, kinds=["replication"])"""),
    ("md", """
## Backfill what existed before

A stream only carries changes made after it was enabled, and a replicator
only sees what the stream still holds. Tickets written before the replicator
was attached are copied once with a scan of the primary table (an item that
is already newer in the secondary is left alone), so the two tables start
level.
"""),
    ("code", """copied = replication.backfill(config)
counts = replication.item_counts(config)
print(f"backfill copied {copied} ticket(s); counts now {counts}")
assert counts[primary] == counts[secondary]"""),
    ("md", """
## Watch replication live

Create tickets through the primary API while counting the items in both
tables. The two lines should rise together, the secondary a moment behind.
"""),
    ("code", """from helpers import charts, monitor, net

api_url = state.load(config.prefix)["stacks"]["api"][primary]["ApiUrl"]
writes = iter(range(20))

def probe():
    n = next(writes, None)
    if n is not None:
        tickets.create_ticket(api_url, description=f"Replication demo ticket {n + 1}")
    return replication.item_counts(config)

samples = monitor.watch(
    probe, timeout=60, interval=0.2,
    until=lambda s: len(s) > 20 and s.iloc[-1][primary] == s.iloc[-1][secondary],
    chart=lambda s: charts.item_counts(s, [primary, secondary]))
final = samples.iloc[-1]
print(f"final counts: {primary} {int(final[primary])}, {secondary} {int(final[secondary])}")"""),
    ("md", """
## Replication lag

How long from a successful `POST` in the primary until the ticket can be read
in the secondary? The helper writes tickets one at a time and polls the
secondary table for each.
"""),
    ("code", """lags = replication.measure_lag(config, api_url, n=30)
charts.lag_histogram(lags, time_scale=net.time_scale())"""),
    ("code", """LAG_LIMIT_S = 5  # far above the sandbox's and AWS's usual second or less

worst = max(lags)
assert worst < LAG_LIMIT_S, f"the slowest took {worst:.1f} s: check the replicator's logs"
print(f"{len(lags)} tickets replicated, each within {LAG_LIMIT_S} s (the chart shows each lag)")
assert replication.item_counts(config)[primary] == replication.item_counts(config)[secondary]"""),
    *PROGRESS,
    ("md", """
## Troubleshooting

* *The counts differ after the backfill* — tickets written meanwhile are still on their way; run the backfill cell again (it copies only what is missing).
* *The secondary's line never catches up* — `workshop status` shows the event source mapping's state and last result; if it is not `Enabled` on the primary table's stream, re-run "Deploy the replicator".
* *Messages in the on-failure queue* — batches that failed every retry; their records stay on the stream for 24 h, and the backfill copies them.
"""),
]

CELLS["03.3-route53-failover.ipynb"] = [
    ("md", """
# Module 3.3 · Route 53 failover

Users should reach the application by one name, `api.<your domain>`, and
Route 53 should answer that name with the primary while it is healthy and
with the secondary otherwise. This needs, in order:

1. a hosted zone for your domain;
2. a TLS certificate for the domain in **each** region (API Gateway custom
   domains use a certificate from their own region);
3. custom domain names on both APIs: `api.` everywhere, plus a regional name
   (`ireland.`, `singapore.`, …) for each;
4. DNS records for the regional names;
5. a health check probing the primary's `/health`;
6. failover records for `api.`;
7. the web UI pointed at the new name.

**You will know it worked** when `https://api.<domain>/health` answers from
the primary region with a healthy health check behind it.
"""),
    ("code", SETUP),
    ("md", """
## 1 · The hosted zone

The kit looks for the public hosted zone of your domain. If there is none
and you ticked *Create a hosted zone* in notebook 00, it creates one
(*on AWS:* 0.50 USD a month, and your registrar must then use the zone's name
servers, or certificate validation below never completes). It never
registers a domain.
"""),
    ("code", """from helpers import failover

zone = failover.hosted_zone(config, create=config.create_zone)
print(f"hosted zone for {config.domain}: {zone['Name']} ({zone['ResourceRecordSetCount']} records)")"""),
    ("md", """
## 2 · Certificates in both regions

ACM proves you control the domain by asking for a CNAME record in it. The
helper requests one certificate for `domain` and `*.domain` per region, then
writes the validation records into your zone for you — the step the original
workshop does by hand in the console. Issuing takes a few minutes on AWS.

*On AWS:* public ACM certificates are free.
"""),
    ("code", """from helpers.widgets import Progress

certs = failover.request_certificates(config)
failover.write_validation_records(config, zone["Id"])
bar = Progress(total=len(certs), description="certificates issued")
issued = failover.wait_for_certificates(config, progress=bar)
bar.done("issued")
assert all(status == "ISSUED" for status in issued.values()), issued
print({region: status for region, status in issued.items()})"""),
    ("md", """
## 3 and 4 · Custom domains and regional names

Each API gets two custom domain names mapped to its `prod` stage: the shared
`api.<domain>` and its own regional name. A CNAME then points each regional
name at its API's regional endpoint.
"""),
    ("code", """domains = failover.create_custom_domains(config)
failover.create_regional_records(config, zone["Id"])
for region in config.regions:
    print(f"{config.regional_host(region):<28} -> {region}")"""),
    ("code", """from helpers import tickets

for region in config.regions:
    url = f"https://{config.regional_host(region)}/"
    status, body, served_by = tickets.health(url)
    print(f"{url}health -> {status} {body['region']}")
    assert status == 200 and body["region"] == region"""),
    ("md", """
## 5 · The health check

Route 53 probes `https://<primary regional name>/health` from several
locations every 10 seconds ("fast" interval); with a failure threshold of
1, one failed probe is enough for a checker to call the endpoint unhealthy.
The chart shows the share of checkers reporting healthy until Route 53
counts the endpoint as healthy (more than 18 % of checkers).

*On AWS:* a fast HTTPS health check costs about 2 USD a month, prorated.
"""),
    ("code", """from helpers import charts, monitor, net

health_check_id = failover.create_health_check(config)

def probe():
    healthy, observations = failover.health_check_status(config)
    ok = sum(o["ok"] for o in observations)
    return {"healthy": healthy, "healthy_fraction": ok / max(len(observations), 1)}

samples = monitor.watch(
    probe, timeout=300, interval=0.25, until=lambda s: bool(s.iloc[-1]["healthy"]), linger=2.0,
    chart=lambda s: charts.health_status(s, time_scale=net.time_scale()))
print("health check:", "healthy" if samples.iloc[-1]["healthy"] else "unhealthy")"""),
    ("md", """
## 6 · Failover records

Two alias records share the name `api.<domain>`: the **primary** points at
the primary's regional name and carries the health check (and evaluates the
target's health); the **secondary** points at the secondary's regional name.
Route 53 answers with the primary while it is healthy.
"""),
    ("code", """failover.create_failover_records(config, zone["Id"], health_check_id)
answer = failover.dns_answer(config, config.api_host())
print(f"{config.api_host()} resolves through", failover.answer_region(answer))
status, body, served_by = tickets.health(f"https://{config.api_host()}/")
print(f"https://{config.api_host()}/health ->", status, body["region"])
assert status == 200 and body["region"] == config.primary_region"""),
    ("md", """
## 7 · Point the web UI at `api.<domain>`

Until now each UI called its own region's API URL. Both UIs now use
`https://api.<domain>/` (no `/prod/`: the custom domain maps to the stage),
so whichever region DNS chooses serves them.
"""),
    ("code", """from helpers import deployment

for region in config.regions:
    deployment.deploy_ui(config, region, api_base_url=f"https://{config.api_host()}/")
    bucket_url = state.load(config.prefix)["stacks"]["ui"][region]["BucketURL"]
    settings = net.request("GET", bucket_url + "/config.js").text
    assert f"https://{config.api_host()}/" in settings
    print(f"UI in {region} now calls https://{config.api_host()}/")"""),
    *PROGRESS,
    ("md", """
## Troubleshooting

* *No hosted zone for your domain (AWS)* — the kit never buys a domain: create a public hosted zone for a domain you own and delegate it at your registrar, or tick "Create a hosted zone" in notebook 00.
* *Certificates stay PENDING_VALIDATION* — the validation records must be in the zone your registrar delegates to (compare its NS records); re-run the cell, it reuses pending certificates.
* *API Gateway refused the custom domain* — its certificate is not ISSUED yet: wait, then re-run.
* *The health check stays unhealthy* — open `https://<primary city>.<domain>/health`: it must answer 200 from the primary.
* *`api.<domain>` answers from the secondary* — the primary's health check is failing; if module 4's bad deploy is still live, run its "Restore the primary" section.
"""),
]

CELLS["04-test-failover.ipynb"] = [
    ("md", """
# Module 4 · Break the primary and watch it fail over

A failover you have never seen happen is a hope, not a plan. This notebook
breaks the primary the way a bad deployment would: the `/health` route is
wired to the wrong function (the ticket-post function, which refuses a
request without a ticket) and the `prod` stage is redeployed. Nothing else
changes — the table and the other routes still work — but the deep health
check now fails.

**You will know it worked** when the health check turns unhealthy, DNS
answers `api.<domain>` with the secondary, requests are served by the
secondary region, and the application keeps listing and creating tickets.
Then you restore the primary and watch everything come back.
"""),
    ("code", SETUP),
    ("code", """from helpers import charts, drill, failover, monitor, net, tickets

primary, secondary = config.regions
api = f"https://{config.api_host()}/"
status, body, served_by = tickets.health(api)
print(f"before: {api}health answered by {body['region']}")
assert body["region"] == primary"""),
    ("md", """
## Break it, and watch the flip

The probe below samples, four times a second: the health check's verdict,
the region that DNS answers `api.<domain>` with, and the region that served
a request to `https://api.<domain>/health` from this notebook. Two seconds
in, it points `GET /health` at the ticket-post function and redeploys
`prod`.

Expect the lanes to flip one after another: the health checkers need a
probe or two to notice, DNS follows their verdict at once, and this
notebook — like any client — keeps using its cached DNS answer until the
answer's TTL runs out.
"""),
    ("code", """def probe():
    healthy, _ = failover.health_check_status(config)
    answer = failover.dns_answer(config, config.api_host())
    try:
        served = tickets.health(api)[2]
    except Exception:  # nothing answered at all
        served = None
    return {"healthy": healthy, "dns_region": failover.answer_region(answer),
            "served_region": served}

BREAK_AT = 2.0
flip = monitor.watch(
    probe, timeout=600, interval=0.25, at={BREAK_AT: lambda: failover.break_primary(config)},
    until=lambda s: s.iloc[-1]["served_region"] == secondary, linger=2.0,
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
    print(f"  {labels[key]}: within the bound after the break")"""),
    ("code", """assert list(moments) == list(labels), "detection, then DNS, then clients"
status, body, served_by = tickets.health(f"https://{config.regional_host(primary)}/")
print(f"the primary itself still answers /health with {status}: {body['message'][:40]}…")
assert status >= 400"""),
    ("code", """charts.failover_timeline(flip, [primary, secondary], time_scale=net.time_scale(),
                         events={"break": BREAK_AT,
                                 **{labels[k]: BREAK_AT + v for k, v in moments.items()}})"""),
    ("md", """
## The application still works

The UI calls `https://api.<domain>/`, so it now talks to the secondary,
which already holds every replicated ticket.
"""),
    ("code", """before = tickets.list_tickets(api)["Count"]
created = tickets.create_ticket(api, description="Filed during the failover", priority="urgent")
after = tickets.list_tickets(api)
print(f"listed {before} tickets, created one, now {after['Count']} (served by the secondary)")
assert after["Count"] == before + 1
assert any(t["id"] == created["id"] for t in after["Items"])"""),
    ("md", """
## Restore the primary

Wire `/health` back to the health-check function and redeploy. The health
check recovers, DNS returns to the primary, and traffic follows once the
cached answer expires.

Tickets created during the failover live in the secondary only: replication
runs primary → secondary. The module-5 clean-up removes them with everything
else.
"""),
    ("code", """RESTORE_AT = 1.0
back = monitor.watch(
    probe, timeout=600, interval=0.25, at={RESTORE_AT: lambda: failover.restore_primary(config)},
    until=lambda s: s.iloc[-1]["served_region"] == primary, linger=1.0,
    chart=lambda s: charts.failover_timeline(s, [primary, secondary],
                                             time_scale=net.time_scale(),
                                             title="Fail-back to the primary"))
served_again = monitor.moments(back, start=RESTORE_AT, served_region=primary)
print(f"api.{config.domain} is served by {back.iloc[-1]['served_region']} again")
assert tickets.health(api)[1]["region"] == primary
assert all(seconds <= limit for seconds in served_again.values()), served_again"""),
    ("md", """
## Measure it: a failover drill

Watching the flip is convincing; the business requirement is a number:
**RTO and RPO both under 15 minutes**. The drill repeats the bad deploy
while a traffic generator creates and lists tickets through
`https://api.<domain>/` a few times a second, then measures:

* **detection** — fault until the health check calls the primary unhealthy;
* **DNS switch** — fault until Route 53 answers with the secondary;
* **RTO** — first failed user request until the first request the secondary
  served successfully, against the theoretical bound (request interval ×
  failure threshold + TTL, on the sandbox clock);
* **RPO** — acknowledged writes missing from the secondary at the switch,
  and after replication has drained (which must be 0).

Before failing back it copies the tickets written to the secondary during
the failover into the primary, so none is lost. The same drill runs from a
terminal with `workshop drill` (`--scenario throttle` or `region-outage` for
other faults).
"""),
    ("code", """# NBVAL_IGNORE_OUTPUT
from helpers import drill, drill_charts

result = drill.run(config, scenario="bad-deploy", live=True)
result.table()"""),
    ("code", """drill_charts.drill_timeline(result)"""),
    ("code", """assert result.rpo_items_after_drain == 0, "an acknowledged write never reached the secondary"
assert result.lost_items == 0, "an acknowledged write is missing after fail-back"
assert result.meets_objective, "RTO over the 15-minute objective"
assert result.rto_seconds <= drill.within_bound(result.theoretical_bound_seconds), result.summary()
print(f"RTO within the bound (request interval x failure threshold + TTL, with margin) and the "
      f"15-minute objective; RPO after drain {result.rpo_items_after_drain}; tickets written "
      "during the failover reconciled into the primary; nothing lost")"""),
    *PROGRESS,
    ("md", """
## Troubleshooting

* *The flip never comes (timeout)* — the health check must be healthy and `api.<domain>` must answer from the primary before you start: re-run notebook 03.3's sections 5 and 6.
* *The notebook stopped between the break and the restore* — the primary stays broken (`workshop status` says so): run "Restore the primary", or `failover.restore_primary(config)` in a cell.
* *Fail-back takes a while* — clients keep their cached DNS answer until its TTL runs out (60 s on AWS).
"""),
]

CELLS["05-clean-up.ipynb"] = [
    ("md", """
# Module 5 · Clean up

Everything the workshop created is removed in dependency order: failover and
regional records, the health check, custom domains, then certificates once
nothing uses them, the replication, UI and API stacks in both regions (the
website buckets are emptied first), and the artifacts buckets. A hosted zone
is deleted only if the kit created it and nothing else lives in it.

**You will know it worked** when the final check lists nothing left.
"""),
    ("code", SETUP),
    ("code", """from helpers import cleanup
from helpers.widgets import Progress

bar = Progress(total=20, description="cleaning up")
report = cleanup.cleanup(config, progress=bar)
bar.done("done")"""),
    ("code", """left = cleanup.leftovers(config)
print("nothing left" if not left else "\\n".join(left))
assert left == [], "some resources are still there: run this notebook again"
"""),
    ("md", """
The same clean-up is one command in a terminal: `workshop cleanup --verify`.
Running it again is safe; it reports that there is nothing to delete.
"""),
    *PROGRESS,
    ("md", """
## Troubleshooting

* *A certificate is "still in use"* — API Gateway lets go of a deleted custom domain's certificate after a few minutes; run the notebook again.
* *The final check lists something* — run the notebook again, or `workshop cleanup --verify` in a terminal.
* *The hosted zone is still there* — the kit deletes a zone only if it created it and nothing else is in it.
* *"waiting 30 s to delete custom domain …"* — API Gateway deletes one custom domain per 30 s in an account and region; when a whole room cleans up at once the deletions queue. The clean-up keeps trying; nothing is wrong.
"""),
]

INDEX = [
    ("md", """
# Multi-region resilience on AWS — the workshop

Build a small serverless ticketing application in two AWS regions, keep
their data in step, put Route 53 failover in front, break the primary on
purpose, and watch users carry on. Every step runs for real on AWS, or
offline on the kit's sandbox.

| notebook | what you do | time | cost on AWS |
|---|---|---|---|
""" + "\n".join(f"| [{m.number} · {m.title}]({m.notebook}) | {m.what_you_do} | {m.minutes} min "
                f"| {m.cost} |" for m in CURRICULUM) + """

Run them in order. In a terminal, `workshop run` executes them all headless
and `workshop sandbox up` starts the offline sandbox.
"""),
    ("md", """
## Where you are

The checklist below looks at what is really deployed and working — in your
AWS account or the sandbox — not at which notebooks have run. Each open item
names the notebook and section that gets it done. Press **Refresh** after each
notebook; in a terminal, `workshop status` prints the same list.

Fallen behind? `workshop run --until 03.2` (any notebook number) runs the
notebooks headless up to that one, skipping every module already done. An
instructor sees the whole room with `workshop status --all`.
"""),
    ("code", """# NBVAL_IGNORE_OUTPUT
from helpers import progress

progress.checklist_widget()"""),
]
