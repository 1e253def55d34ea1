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

# %%
from helpers import state

config = state.current_config()
print(config.describe())

# %% [markdown]
# ## 1 · The hosted zone
#
# The kit looks for the public hosted zone of your domain. If there is none
# and you ticked *Create a hosted zone* in notebook 00, it creates one
# (*on AWS:* 0.50 USD a month, and your registrar must then use the zone's name
# servers, or certificate validation below never completes). It never
# registers a domain.

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
from helpers.widgets import Progress

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
# `api.<domain>` and its own regional name. A CNAME then points each regional
# name at its API's regional endpoint.

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
# ## 5 · The health check
#
# Route 53 probes `https://<primary regional name>/health` from several
# locations every 10 seconds ("fast" interval); with a failure threshold of
# 1, one failed probe is enough for a checker to call the endpoint unhealthy.
# The chart shows the share of checkers reporting healthy until Route 53
# counts the endpoint as healthy (more than 18 % of checkers).
#
# *On AWS:* a fast HTTPS health check costs about 2 USD a month, prorated.

# %%
from helpers import charts, monitor, net

health_check_id = failover.create_health_check(config)

def probe():
    healthy, observations = failover.health_check_status(config)
    ok = sum(o["ok"] for o in observations)
    return {"healthy": healthy, "healthy_fraction": ok / max(len(observations), 1)}

samples = monitor.watch(
    probe, timeout=300, interval=0.25, until=lambda s: bool(s.iloc[-1]["healthy"]), linger=2.0,
    chart=lambda s: charts.health_status(s, time_scale=net.time_scale()))
print("health check:", "healthy" if samples.iloc[-1]["healthy"] else "unhealthy")

# %% [markdown]
# ## 6 · Failover records
#
# Two alias records share the name `api.<domain>`: the **primary** points at
# the primary's regional name and carries the health check (and evaluates the
# target's health); the **secondary** points at the secondary's regional name.
# Route 53 answers with the primary while it is healthy.

# %%
failover.create_failover_records(config, zone["Id"], health_check_id)
answer = failover.dns_answer(config, config.api_host())
print(f"{config.api_host()} resolves through", failover.answer_region(answer))
status, body, served_by = tickets.health(f"https://{config.api_host()}/")
print(f"https://{config.api_host()}/health ->", status, body["region"])
assert status == 200 and body["region"] == config.primary_region

# %% [markdown]
# ## 7 · Point the web UI at `api.<domain>`
#
# Until now each UI called its own region's API URL. Both UIs now use
# `https://api.<domain>/` (no `/prod/`: the custom domain maps to the stage),
# so whichever region DNS chooses serves them.

# %%
from helpers import deployment

for region in config.regions:
    deployment.deploy_ui(config, region, api_base_url=f"https://{config.api_host()}/")
    bucket_url = state.load(config.prefix)["stacks"]["ui"][region]["BucketURL"]
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
