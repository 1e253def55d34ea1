# %% [markdown]
# <!--NAVIGATION-->
# [Contents](index.ipynb) · [Module 1 · API layer →](01-api-layer.ipynb)

# %% [markdown]
# # Set-up: choose where the workshop runs
#
# Over the next notebooks you will build a small support-ticket application
# twice — once in a **primary** AWS region and once in a **secondary** one —
# keep the two copies' data in step, and let Route 53 send users to whichever
# copy is healthy. The business goal is a recovery time (RTO) and a data-loss
# window (RPO) both under 15 minutes.
#
# This notebook records your choices and checks that everything needed is in
# reach. **You will know it worked** when the form below says *Saved* and the
# preflight table shows only `yes`.

# %% [markdown]
# ## Your settings
#
# * **Mode** — `sandbox` runs everything on this machine, offline and free;
#   `aws` uses the account your AWS credentials point at, and costs a little
#   money (see the table at the end).
# * **Regions** — the primary serves traffic; the secondary takes over when
#   the primary fails. They must differ.
# * **Domain** — a name you control. In the sandbox any name works
#   (`example.com` is reserved for examples). On AWS it must be a domain you
#   own; the kit never buys one for you.
# * **Participant prefix** — starts every resource name, so several people
#   can share one account or one sandbox, **each with a domain of their own**
#   (a delegated subdomain such as `carol.workshop.example.com` will do). Two
#   participants on one domain would compete for the same custom domain names
#   and DNS records: API Gateway allows each custom domain name once per region
#   across all accounts, and the second participant's failover records would
#   replace the first's.
# * **Create a hosted zone** — lets notebook 03.3 create a Route 53 zone for
#   the domain when there is none. Untick it on AWS if your domain already has
#   a zone (for example because you bought it through Route 53).
#
# Errors appear beside the field as you type; a valid form is saved at once.

# %%
from helpers.views.widgets import SettingsForm

form = SettingsForm()
form

# %%
config = form.config
assert config is not None, "Fix the fields marked in red above, then run this cell again."
print(config.describe())

# %% [markdown]
# ## Preflight
#
# Before creating anything, check that the control plane answers with working
# credentials in both regions. In sandbox mode start the sandbox first with
# `workshop sandbox up` in a terminal (`workshop run` starts one for you).

# %%
from helpers import preflight

checks = preflight.run(config)
preflight.as_table(checks)

# %% [markdown]
# **AWS calls (N)**, under the cell above and under every cell that reaches
# AWS (or the sandbox), lists the boto3 calls that cell made: when, service,
# operation, region, the parameters, the outcome and how long it took, with
# the AWS CLI command that does the same under each call that changes
# something (`workshop calls` prints the whole log). The checklist ("Your
# progress") and the architecture drawing at the end of each module read every
# resource they check, so theirs lists 20 to 40 reads and no changes.

# %%
preflight.assert_ready(checks)
print("Ready: every check passed.")

# %% [markdown]
# ## Two clocks: the sandbox's, and real time
#
# Some of what AWS does takes minutes: a DNS answer is cached for its TTL (60 s
# for the kit's records), a Route 53 change is `PENDING` for up to a minute, a
# health checker probes every 10 or 30 s, API Gateway creates one custom domain
# per 30 s. The sandbox runs these **on its own clock**, faster by its *time
# scale*: at the default 0.1 each lasts a tenth of AWS's figure (the 60 s TTL
# lasts 6 s), so a failover fits a lesson. Every such duration the notebooks
# print says it ran on the sandbox's clock and gives what it stands for on AWS
# (divided by the time scale): *"1.1 s on the sandbox's clock (10.8 s on AWS at
# time scale 0.1)"*.
#
# The rest runs **in real time, as on AWS**: the round trip between two regions
# (the sandbox models it with the delay a published table gives for the pair),
# Lambda polling a stream, your functions' own work. So the replication lag of
# module 3.2 reads as it would on AWS, while a failover's seconds in module 4
# are on the sandbox's clock. A figure the sandbox models rather than measures
# (a round trip, a cold start, a replica's creation) is called *modelled*. On AWS
# there is one clock, AWS's own (time scale 1), and the table shows AWS's figures.

# %%
from helpers import clocks, net

print(clocks.explain(net.clock()))
clocks.table(net.clock())

# %% [markdown]
# ## What it costs on AWS
#
# In the sandbox nothing is billed. On AWS the workshop creates pay-per-use
# resources plus two that bill by the month, the hosted zone and the health
# check. The table gives each price in USD as AWS's pricing page states it,
# with the date the kit took it from that page (a figure the kit could not read
# from an AWS page says *the kit's estimate*; sources in `docs/aws-sources.md`),
# what one participant's run costs if notebook 05 runs the same day as 03.3,
# and what still bills after the clean-up. The health check is priced as a
# check of an *AWS endpoint* (its endpoint is an API Gateway custom domain in
# your own account) with two options, HTTPS and the 10-second interval; the
# line below it gives the non-AWS price. Monthly items are counted as a full
# month. Notebooks 03.3 and 05 show the same table.

# %%
from helpers import costs

costs.table()

# %% [markdown]
# <!--NAVIGATION-->
# [Contents](index.ipynb) · [Module 1 · API layer →](01-api-layer.ipynb)
