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
# ## What it costs on AWS
#
# In the sandbox nothing is billed. On AWS the workshop creates only
# pay-per-use resources plus a hosted zone and a health check, which bill by
# the month. The Route 53 figures come from its pricing page, as of
# 2026-09-20 (`docs/aws-sources.md`): a hosted zone is 0.50 USD a month but
# nothing if deleted within 12 hours of its creation, and the health check is
# 0.50 USD a month plus 1.00 for each of its two options, HTTPS and the fast
# interval. Run notebook 05 within 12 hours of notebook 03.3 and the workshop
# costs less than three dollars, nearly all of it the health check (counted
# here as a full month):

# %%
preflight.cost_table()

# %% [markdown]
# <!--NAVIGATION-->
# [Contents](index.ipynb) · [Module 1 · API layer →](01-api-layer.ipynb)
