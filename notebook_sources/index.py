# %% [markdown]
#
# # Multi-region resilience on AWS — the workshop
#
# Build a small serverless ticketing application in two AWS regions, keep
# their data in step, put Route 53 failover in front, break the primary on
# purpose, and watch users carry on. Every step runs for real on AWS, or
# offline on the kit's sandbox.
#
# | notebook | what you do | time | cost on AWS |
# |---|---|---|---|
# | [00 · Set-up](00-set-up.ipynb) | choose mode, regions, domain, prefix; preflight | 5 min | — |
# | [01 · API layer](01-api-layer.ipynb) | table, functions and REST API in the primary | 10 min | pennies |
# | [02 · UI layer](02-ui-layer.ipynb) | the web page on S3 website hosting | 5 min | pennies |
# | [03.1 · A second region](03.1-second-region.ipynb) | the same stacks in the secondary | 10 min | pennies |
# | [03.2 · Replicate the data](03.2-replicate-data.ipynb) | streams, replicator, backfill, lag | 15 min | pennies |
# | [03.3 · Route 53 failover](03.3-route53-failover.ipynb) | zone, certificates, custom domains, health check, failover records | 20 min | zone 0.50 USD/month, health check 2.50 USD/month |
# | [04 · Test failover](04-test-failover.ipynb) | break the primary, watch the flip, restore | 15 min | — |
# | [04.1 · Global tables](04.1-global-tables.ipynb) | convert to a DynamoDB global table, re-run the drill, compare both methods | 20 min | replicated writes 0.625 USD per million |
# | [05 · Clean up](05-clean-up.ipynb) | delete everything and prove it | 5 min | — |
#
# Run them in order. In a terminal, `workshop run` executes them all headless
# and `workshop sandbox up` starts the offline sandbox.
#

# %% [markdown]
#
# ## Where you are
#
# The checklist below looks at what is really deployed and working — in your
# AWS account or the sandbox — not at which notebooks have run. Each open item
# names the notebook and section that gets it done. Press **Refresh** after each
# notebook; in a terminal, `workshop status` prints the same list.
#
# Fallen behind? `workshop run --until 03.2` (any notebook number) runs the
# notebooks headless up to that one, skipping every module already done. An
# instructor sees the whole room with `workshop status --all`.
#

# %%
# NBVAL_IGNORE_OUTPUT
from helpers import progress

progress.checklist_widget()

# %% [markdown]
# The same state as a picture: both regions, the replication between them and
# Route 53 in front. Faded parts are not deployed yet, red ones fail their
# check, and the green arrow shows the region DNS answers with now.

# %%
from helpers import architecture

architecture.show()
