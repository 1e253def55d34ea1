# %% [markdown]
# <!--NAVIGATION-->
# [← Module 3.2 · Replicate the data](03.2-replicate-data.ipynb) · [Contents](index.ipynb) · [Module 4 · Test failover →](04-test-failover.ipynb)

# %% [markdown]
# # Module 3.3 · Route 53 failover
#
# Users should reach the application by one name, `api.<your domain>`, and
# Route 53 should answer that name with the primary while it is healthy and
# with the secondary otherwise. This needs, in order:
#
# 1. a hosted zone for your domain;
# 2. a TLS certificate for the domain in **each** region (API Gateway custom
#    domains use a certificate from their own region);
# 3. custom domain names on both APIs: `api.` everywhere, plus a regional name
#    (`ireland.`, `singapore.`, …) for each;
# 4. DNS records for the regional names;
# 5. a health check probing the primary's `/health`;
# 6. failover records for `api.`;
# 7. the web UI pointed at the new name.
#
# **You will know it worked** when `https://api.<domain>/health` answers from
# the primary region with a healthy health check behind it.
#
# In the sandbox, health-check intervals and DNS TTLs run on a faster clock
# (its *time scale*, 0.1 by default: AWS's 60 s TTL lasts 6 s here). Every
# duration the cells print is given twice: as measured here, and what it stands
# for on AWS. The AWS facts this notebook relies on are listed, with their
# documentation pages, in `docs/aws-sources.md`.

# %%
from helpers import state

config = state.current_config()
print(config.describe())

# %% [markdown]
# ## 1 · The hosted zone
#
# The kit looks for the public hosted zone of your domain. If there is none
# and you ticked *Create a hosted zone* in notebook 00, it creates one; your
# registrar must then list the zone's four name servers, or certificate
# validation below never completes. It never registers a domain.
#
# *On AWS:* a hosted zone costs 0.50 USD a month, not prorated, but nothing if
# it is deleted within 12 hours of its creation (Route 53 pricing page and
# developer guide, figures as of 2026-09-20): run notebook 05 the same morning
# and the kit's zone is free.

# %%
from helpers import failover

zone = failover.hosted_zone(config, create=config.create_zone)
print(f"hosted zone for {config.domain}: {zone['Name']} ({zone['ResourceRecordSetCount']} records)")

# %% [markdown]
# ## 2 · Certificates in both regions
#
# ACM proves you control the domain by asking for a CNAME record in it. The
# helper requests one certificate for `domain` and `*.domain` per region, then
# writes the validation records into your zone for you — the step the original
# workshop does by hand in the console. Issuing takes a few minutes on AWS.
#
# *On AWS:* public ACM certificates are free.

# %%
from helpers.views.widgets import Progress

certs = failover.request_certificates(config)
failover.write_validation_records(config, zone["Id"])
bar = Progress(total=len(certs), description="certificates issued")
issued = failover.wait_for_certificates(config, progress=bar)
bar.done("issued")
assert all(status == "ISSUED" for status in issued.values()), issued
print({region: status for region, status in issued.items()})

# %% [markdown]
# ## 3 and 4 · Custom domains and regional names
#
# Each API gets two custom domain names mapped to its `prod` stage: the shared
# `api.<domain>` and its own regional name (`ireland.`, `singapore.`, …). Both
# are **Regional** custom domains, like the APIs themselves (module 1):
#
# * A Regional custom domain is served by API Gateway in the API's own region,
#   with a certificate from that same region's ACM — hence one certificate per
#   region in section 2. (An edge-optimized one goes through CloudFront and
#   needs its certificate in `us-east-1`.)
# * Failover needs Regional because both regions must answer to the **same**
#   name, `api.<domain>`. Regional custom domains of one name may exist in
#   several regions, one per region; an edge-optimized name can belong to only
#   one CloudFront distribution. Route 53 then chooses which region's copy a
#   client reaches.
# * API Gateway gives each custom domain its own target name,
#   `d-….execute-api.<region>.amazonaws.com`. The CNAME for each regional name
#   points at **that target**, not at the API's `….execute-api…` URL from
#   module 1. The target is where API Gateway answers for your domain with your
#   certificate; the API's own endpoint presents API Gateway's
#   `*.execute-api` certificate, which does not name your domain, so an HTTPS
#   client refuses it.
#
# In the sandbox, `https://` is carried as plain HTTP on loopback (each region
# has its own address, `helpers/connect/net.py` maps the scheme), so certificate and SNI
# mistakes only show on AWS.

# %%
domains = failover.create_custom_domains(config)
failover.create_regional_records(config, zone["Id"])
for region in config.regions:
    print(f"{config.regional_host(region):<28} -> {region}")

# %%
from helpers import tickets

for region in config.regions:
    url = f"https://{config.regional_host(region)}/"
    status, body, served_by = tickets.health(url)
    print(f"{url}health -> {status} {body['region']}")
    assert status == 200 and body["region"] == region

# %% [markdown]
# **On AWS, DNS takes patience.** What to expect, and for how long:
#
# * A record change reaches all of Route 53's name servers, usually within 60
#   seconds; the helpers wait until Route 53 reports it `INSYNC`.
# * Resolvers, operating systems and browsers keep an answer for its TTL (60 s
#   for the kit's records), and some keep it longer.
# * A name looked up *before* its record exists is remembered as "no such name"
#   (negative caching) for the lesser of the zone's SOA TTL and the SOA's
#   minimum field (RFC 2308): 900 s, 15 minutes, on a Route 53 public zone. Don't
#   open `https://<city>.<domain>` before the cell above has created its record.
# * A new zone only works once your registrar lists its name servers. The
#   parent zone's NS records typically live for two days (172,800 s), so a
#   change of delegation can take that long to reach every resolver.
#
# The sandbox plays the same rules, with every TTL multiplied by its time scale.

# %% [markdown]
# ## 5 · The health check
#
# Route 53's health checkers, in several locations around the world, each
# request `https://<primary regional name>/health` — the deep ping of module 1
# — and Route 53 combines their reports: the endpoint is healthy while **more
# than 18 %** of the checkers report it healthy.
#
# **Why HTTPS on port 443, with SNI.** API Gateway answers only over HTTPS; a
# plain `http://` request gets no API. And a custom domain answers the TLS
# handshake only when the client names the host it wants in its first message
# (Server Name Indication): the check sets `EnableSNI`, otherwise the checkers
# would report a handshake failure. Route 53's HTTPS checks do not validate
# the certificate; they need a TCP connection within 4 s and a 2xx or 3xx
# status within 2 s after it. In the sandbox the check probes plain HTTP on
# loopback instead.
#
# The original workshop has you set each of these values in the console. Here
# the helper creates the check; the table shows its settings as Route 53 holds
# them, each with the reason for it. The request itself is under **AWS calls**
# below the cell: `CreateHealthCheck` with its `HealthCheckConfig`, as an AWS
# CLI command you could paste.

# %%
health_check_id = failover.create_health_check(config)
failover.health_check_settings(config)

# %% [markdown]
# **A new health check is healthy before anyone has checked.** Route 53
# considers a new health check healthy until it has enough data to determine
# its actual status: a checker that has not reported yet counts as healthy.
# So the check is healthy from the moment it exists, and DNS may answer with
# the primary at once; the checkers' first reports, each within one request
# interval (10 s on AWS), then confirm it — or, for a broken endpoint, turn it
# unhealthy. That is why the original workshop asks you to wait a few minutes
# before trusting the check.
#
# The chart follows the check from just after its creation. The squares along
# the top are Route 53's verdict, green from the start: there are no reports
# yet. The line is the share of **all** the checkers that have reported the
# endpoint healthy; it rises as their first reports arrive. The cell waits
# until it passes 18 %, when the verdict rests on reports rather than on
# missing data.

# %%
from helpers import charts, monitor, net


def reported_healthy(samples):
    """More than 18 % of all the checkers have reported the endpoint healthy."""
    return samples.iloc[-1]["healthy_fraction"] > failover.HEALTHY_FRACTION


samples = monitor.watch(
    lambda: failover.status_sample(config), timeout=300, interval=0.25, until=reported_healthy,
    linger=2.0, chart=lambda s: charts.health_status(s, time_scale=net.time_scale()))
assert samples["healthy"].all(), "Route 53 called the check unhealthy: open its /health"
on_reports = samples[samples["healthy_fraction"] > failover.HEALTHY_FRACTION]["t"].iloc[0]
print("health check: healthy from its creation (no reports yet); healthy on its checkers' "
      f"reports after {charts.duration(on_reports, net.time_scale())}")

# %% [markdown]
# **A request interval of 10 s and a failure threshold of 1 are workshop
# settings, not production ones.** They make module 4's failover happen within
# a minute. Route 53's defaults are 30 s and 3. The threshold is the number of
# consecutive probes a checker needs before it changes its verdict, in either
# direction, so the two settings trade detection time against flapping:
#
# | interval × threshold | a dead primary is noticed within about | a blip that moves traffic |
# |---|---|---|
# | 10 s × 1 (this workshop) | 10 s, then clients follow within the 60 s TTL: about 70 s | one slow or failed answer at enough checkers (a cold start past the 2 s limit, a throttled table read) |
# | 30 s × 3 (defaults) | 90 s, plus the TTL: about 150 s | only a fault lasting about a minute of probes |
#
# With threshold 1, a brief hiccup fails the region over and, one probe later,
# back again: each flip costs clients up to a TTL on the wrong side. In
# production keep the defaults (or higher), rehearse the failover to measure
# what they give you, and alarm on the check.
#
# *On AWS:* this check costs 2.50 USD a month: 0.50 for a basic check of an
# AWS endpoint, plus 1.00 for each of two separately priced options, HTTPS and
# the fast interval (Route 53 pricing page, figures as of 2026-09-20). String
# matching would be a third option at 1.00.

# %%
from helpers import costs

costs.table()

# %% [markdown]
# ## 6 · Failover records
#
# Two alias records share the name `api.<domain>`, each with a failover role:
#
# * **PRIMARY** points at the primary's regional name and carries the health
#   check. Route 53 answers with it while that check is healthy.
# * **SECONDARY** points at the secondary's regional name and carries **no**
#   health check. Route 53 treats a record without a check as healthy, so the
#   moment the primary is unhealthy it answers with the secondary, whatever
#   state the secondary is in: it is the last resort. Were there a check on
#   the secondary too, and both failed at once (a dependency both deep pings
#   share, say), Route 53 would answer with the **primary** — no failover at
#   all. Only the primary serves in this active-passive design, so only it
#   needs a check; an active-active design (weighted records, say) would check
#   every region.
# * **Evaluate Target Health** is set on both records, because Route 53
#   requires it on every failover alias record. It makes an alias record take
#   on the health of the record it points at. That target, `<city>.<domain>`,
#   is a plain CNAME with no health check of its own, so it always counts as
#   healthy: the flag adds nothing here, and Route 53 does not probe API
#   Gateway on its behalf. The health check on the primary record is what
#   moves traffic.

# %%
sent = failover.create_failover_records(config, zone["Id"], health_check_id)
answer = failover.dns_answer(config, config.api_host())
print(f"{config.api_host()} resolves through", failover.answer_region(answer))
status, body, served_by = tickets.health(f"https://{config.api_host()}/")
print(f"https://{config.api_host()}/health ->", status, body["region"])
assert status == 200 and body["region"] == config.primary_region

# %% [markdown]
# The change batch the helper sent (`ChangeResourceRecordSets`), as the JSON
# `aws route53 change-resource-record-sets --change-batch` takes: two `UPSERT`s
# of `api.<domain>`, one per failover role, each an alias to a regional name.

# %%
# NBVAL_IGNORE_OUTPUT
sent

# %% [markdown]
# Both records as Route 53 returns them (`ListResourceRecordSets`): the
# `HealthCheckId` is on the primary only.

# %%
record_sets = failover.record_sets(config, zone["Id"])
check_by_role = record_sets.set_index("Failover")["HealthCheckId"]
assert check_by_role["PRIMARY"] == health_check_id and check_by_role["SECONDARY"] == ""
record_sets

# %% [markdown]
# ## 7 · Point the web UI at `api.<domain>`
#
# Until now each UI called its own region's API URL. Both UIs now use
# `https://api.<domain>/` (no `/prod/`: the custom domain maps to the stage),
# so whichever region DNS chooses serves their API calls.
#
# Only the API fails over. The website does not: each region's bucket serves
# its own copy of the page at its own website URL, and no DNS record moves a
# visitor from one bucket to the other. A visitor on the primary's website URL
# keeps working through a failover because the page's API calls go to
# `api.<domain>`; if the primary's bucket itself were unreachable, that URL
# would be too, and the secondary's website URL would be the way in.

# %%
from helpers import deployment

for region in config.regions:
    deployment.deploy_ui(config, region, api_base_url=f"https://{config.api_host()}/")
    bucket_url = deployment.website_url(config, region)
    settings = net.request("GET", bucket_url + "/config.js").text
    assert f"https://{config.api_host()}/" in settings
    print(f"UI in {region} now calls https://{config.api_host()}/")

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
# * *No hosted zone for your domain (AWS)* — the kit never buys a domain: create a public hosted zone for a domain you own and delegate it at your registrar, or tick "Create a hosted zone" in notebook 00.
# * *Certificates stay PENDING_VALIDATION* — the validation records must be in the zone your registrar delegates to (compare its NS records); re-run the cell, it reuses pending certificates.
# * *API Gateway refused the custom domain* — its certificate is not ISSUED yet: wait, then re-run.
# * *The health check stays unhealthy* — open `https://<primary city>.<domain>/health`: it must answer 200 from the primary.
# * *`api.<domain>` answers from the secondary* — the primary's health check is failing; if module 4's bad deploy is still live, run its "Restore the primary" section.

# %% [markdown]
# <!--NAVIGATION-->
# [← Module 3.2 · Replicate the data](03.2-replicate-data.ipynb) · [Contents](index.ipynb) · [Module 4 · Test failover →](04-test-failover.ipynb)
