# %% [markdown]
# <!--NAVIGATION-->
# [← Module 2 · UI layer](02-ui-layer.ipynb) · [Contents](index.ipynb) · [Module 3.2 · Replicate the data →](03.2-replicate-data.ipynb)

# %% [markdown]
# # Module 3.1 · The same stacks in a second region
#
# Resilience starts with a second, independent copy of the application. Here
# the API and UI stacks from modules 1 and 2 go to the secondary region,
# unchanged: same templates, same code, no link to the primary.
#
# **You will know it worked** when the secondary has its own API URL and shows
# **no** tickets — the ticket created in module 1 lives only in the primary
# until the next notebook replicates the data.

# %%
from helpers import state

config = state.current_config()
print(config.describe())

# %% [markdown]
# ## Deploy both stacks in the secondary
#
# *On AWS this creates* the same resources as modules 1 and 2, in the
# secondary region.

# %%
from helpers import deployment
from helpers.views.widgets import Progress

secondary = config.secondary_region
bar = Progress(total=38, description=f"stacks in {secondary}")
api2 = deployment.deploy_api(config, secondary, progress=bar)
ui2 = deployment.deploy_ui(config, secondary, api_base_url=api2["ApiUrl"], progress=bar)
bar.done("deployed")
deployment.stack_outputs_table(config)

# %% [markdown]
# ## Check: two APIs, two answers
#
# The primary still holds the ticket from module 1; the secondary is a
# separate stack with an empty table.

# %%
from helpers import deployment, tickets

primary = config.primary_region
api1_url = deployment.api_url(config, primary)
assert api1_url != api2["ApiUrl"], "the secondary must have a URL of its own"
in_primary = tickets.list_tickets(api1_url)["Count"]
in_secondary = tickets.list_tickets(api2["ApiUrl"])["Count"]
print(f"tickets in {primary}: {in_primary}   tickets in {secondary}: {in_secondary}")
assert in_primary >= 1
if not deployment.deployed(config, "replication"):
    assert in_secondary == 0, "nothing copies tickets yet, so the secondary must be empty"
else:  # a re-run after notebook 03.2: the secondary is a replica by now
    print("(notebook 03.2 has run before: the secondary holds replicated tickets)")

# %%
status, body, served_by = tickets.health(api2["ApiUrl"])
print(status, body["region"])
assert status == 200 and body["region"] == secondary

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
# * *"stack … ended in ROLLBACK_COMPLETE" in the secondary* — as in module 1: fix the named resource and re-run; the failed stack is replaced.
# * *The check finds tickets in the secondary* — expected only after notebook 03.2 has run; before that nothing copies tickets.
# * *`/health` names the primary region* — you called the primary's URL; the outputs table lists both.

# %% [markdown]
# <!--NAVIGATION-->
# [← Module 2 · UI layer](02-ui-layer.ipynb) · [Contents](index.ipynb) · [Module 3.2 · Replicate the data →](03.2-replicate-data.ipynb)
