# %% [markdown]
# <!--NAVIGATION-->
# [← Module 4.1 · Global tables](04.1-global-tables.ipynb) · [Contents](index.ipynb)

# %% [markdown]
# # Module 5 · Clean up
#
# Everything the workshop created is removed in dependency order: failover and
# regional records, the health check, custom domains, then certificates once
# nothing uses them, the replication, UI and API stacks in both regions (the
# website buckets are emptied first), and the artifacts buckets. A hosted zone
# is deleted only if the kit created it and nothing else lives in it.
#
# **You will know it worked** when the final check lists nothing left.

# %%
from helpers import state

config = state.current_config()
print(config.describe())

# %%
from helpers import cleanup
from helpers.views.widgets import Progress

bar = Progress(total=20, description="cleaning up")
report = cleanup.cleanup(config, progress=bar)
bar.done("done")

# %%
left = cleanup.leftovers(config)
print("nothing left" if not left else "\n".join(left))
assert left == [], "some resources are still there: run this notebook again"

# %% [markdown]
# The same clean-up is one command in a terminal: `workshop cleanup --verify`.
# Running it again is safe; it reports that there is nothing to delete.

# %% [markdown]
# ## What still bills
#
# On AWS, the same table as notebooks 00 and 03.3: each price with its date,
# what this run cost, and in the last column what still bills now. Nothing the
# kit created does: the two monthly items, the health check and the hosted zone
# the kit created, are deleted (a zone deleted within 12 hours of its creation
# is not billed at all). What stays yours is what you brought: your domain's
# registration, and a hosted zone you had before the workshop. DynamoDB keeps a
# backup of each deleted table for 35 days, free of charge, because
# point-in-time recovery was on. In the sandbox nothing was billed.

# %%
from helpers import costs

costs.table()

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
# * *A certificate is "still in use"* — API Gateway lets go of a deleted custom domain's certificate after a few minutes; run the notebook again.
# * *The final check lists something* — run the notebook again, or `workshop cleanup --verify` in a terminal.
# * *The hosted zone is still there* — the kit deletes a zone only if it created it and nothing else is in it.
# * *"waiting 30 s to delete custom domain …"* (in the sandbox *"waiting 3 s on the sandbox's clock (30 s on AWS at time scale 0.1) …"*) — API Gateway deletes one custom domain per 30 s in an account, whatever the region; when a whole room cleans up at once the deletions queue. The clean-up keeps trying; nothing is wrong.

# %% [markdown]
# <!--NAVIGATION-->
# [← Module 4.1 · Global tables](04.1-global-tables.ipynb) · [Contents](index.ipynb)
