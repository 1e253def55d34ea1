# %% [markdown]
# <!--NAVIGATION-->
# [← Module 4 · Test failover](04-test-failover.ipynb) · [Contents](index.ipynb) · [Module 5 · Clean up →](05-clean-up.ipynb)

# %% [markdown]
# # Module 4.1 · Global tables
#
# Module 3.2 built replication by hand: the primary table's stream, a Lambda
# replicator, its failure queue, a backfill and a reconcile. DynamoDB offers the
# same job as a feature of the table: a **global table** (version 2019.11.21)
# keeps a replica in every region you add and copies each write to the others
# itself, in both directions. This extension converts your table, keeping
# every ticket, retires the replicator, runs the failover drill of module 4
# again, and sets both methods side by side. (On AWS every figure is measured.
# The sandbox does not emulate DynamoDB's own replication: it models a global
# table's lag as one inter-region round trip, and the figures say *modelled*
# where they rest on that model.)
#
# **You will know it worked** when the primary's table lists an `ACTIVE`
# replica in the secondary, both regions' functions use it, the replication
# stack is gone, and the drill on the global table fails over within the bound
# with nothing lost.

# %%
from helpers import state

config = state.current_config()
print(config.describe())

# %% [markdown]
# ## Why global tables
#
# With the replicator you own every moving part: the code that applies a
# change, the rule that stops an old version overwriting a new one, the queue
# that keeps a failed batch, the backfill of what existed before, and the
# copy back of tickets written to the secondary during a failover. A global
# table does all of that inside DynamoDB. Each replica takes reads and writes;
# a write to any replica reaches the others asynchronously, usually within a
# second; and two writes to the same item in different regions are settled
# by **last writer wins**, so every replica ends up with the same version
# (*How DynamoDB global tables work*, DynamoDB Developer Guide). You give up
# your own conflict rule and your own failure handling; you pay per
# replicated write.
#
# First, measure the replicator once more, on this deployment, so both
# methods are compared on the same tables and the same load: the replication
# lag (30 tickets, ten a second, as in module 3.2) and the failover drill of
# module 4.

# %%
from helpers import deployment, net, replication

primary, secondary = config.regions
api_url = deployment.api_url(config, primary)
streams_lags = replication.measure_lag(config, api_url, n=30)
print("Streams + replicator:", streams_lags.summary())

# %%
# NBVAL_IGNORE_OUTPUT
from helpers import drill

streams_drill = drill.run(config, scenario="bad-deploy", replication="streams")
assert streams_drill.rpo_items_after_drain == 0 and streams_drill.lost_items == 0
streams_drill.table()

# %% [markdown]
# ## What AWS allows
#
# The conversion AWS supports for a table that already holds data is
# `UpdateTable` on the primary's table with `ReplicaUpdates` →
# `Create: {RegionName: <secondary>}` (version 2019.11.21). DynamoDB then builds
# the replica and fills it with every item. What it takes:
#
# * a stream with **new and old images** (`NEW_AND_OLD_IMAGES`): the current
#   version's own tutorial (*Tutorial: Creating a global table*, DynamoDB
#   Developer Guide) creates the table with one before it adds a replica, and
#   the sandbox refuses a replica without it. The kit's table already has it,
#   for the replicator;
# * capacity that follows replicated writes: on-demand, as the kit's table, or
#   auto scaling;
# * **no table of that name in the replica's region**. Your secondary already
#   has `<prefix>-tickets`, created by module 3.1: DynamoDB will not adopt it as
#   a replica, so it has to go first (the other route, a new global table under
#   another name and a migration of the data, changes the name every function
#   uses).
#
# **CloudFormation: the kit does not follow AWS's route.** Changing the
# template's `AWS::DynamoDB::Table` into an `AWS::DynamoDB::GlobalTable` does
# not convert the table; it may delete it and its tickets. AWS's route keeps
# the table under CloudFormation: set `DeletionPolicy: Retain` on the table,
# remove it from its stack (the table stays), add the replica, then import the
# table into a stack as an `AWS::DynamoDB::GlobalTable` (*AWS::DynamoDB::
# GlobalTable*, CloudFormation Template Reference; *Best practices for global
# tables*, DynamoDB Developer Guide). The kit does none of that: the primary's
# table **stays in its API stack as a plain table**, and the replica is added
# with `UpdateTable`, outside CloudFormation. So that stack now describes a
# table that is global: CloudFormation does not know the replica, and an update
# that replaced the table, or a deletion of the stack, would act on a
# replicated table. That is acceptable for a workshop that module 5 tears down
# (it deletes the replica first); for a system you keep, follow AWS's route.
#
# The table below checks the three now:

# %%
from helpers import global_tables

global_tables.requirements(config)

# %% [markdown]
# ## Convert: a replica in the secondary
#
# `global_tables.convert` takes four steps, each skipped if already done:
#
# 1. **Retire the replicator**: wait until the secondary holds every ticket of
#    the primary, then delete the replication stack (function, role, mapping,
#    queue). From here on the global table replicates.
# 2. **Copy back** the tickets only the secondary holds (written there during a
#    failover), with the replicator's `updatedAt` rule, so none is lost.
# 3. **Release the secondary's table**: its API stack is updated with
#    `TableSource=global-table-replica`; CloudFormation deletes the table the
#    stack owned, and the functions keep the name `<prefix>-tickets`.
# 4. **Add the replica**: `UpdateTable ReplicaUpdates Create`, then wait for
#    `ACTIVE`. The replica starts with every item of the primary.
#
# Between step 2 and the end of step 4 only the primary may take writes: a
# ticket written to the secondary in that window would be deleted with its
# table. Here nothing writes to it (DNS answers the primary); on a live system
# you would stop the secondary's writers first.
#
# **While the replica builds, the secondary has no table.** From step 3 until
# the replica is `ACTIVE`, `<prefix>-tickets` does not exist in the secondary
# (on AWS, minutes for a small table): its API answers every ticket request with
# an error, and a failover in that window would find no data there. The health
# check watches only the primary, so DNS keeps answering with the primary and
# nothing moves; but the standby is gone until the replica is `ACTIVE`, so
# convert when a failover is not expected.
#
# *On AWS this changes:* the replication stack is deleted, the secondary's API
# stack is updated (its table deleted), and the primary's table gains a replica.

# %%
# NBVAL_IGNORE_OUTPUT
from helpers import tickets


def ticket_ids(region):
    return {t["id"] for t in tickets.all_tickets(deployment.api_url(config, region))}


before = ticket_ids(primary) | ticket_ids(secondary)
done = global_tables.convert(config, progress=print)
done.summary()

# %%
for region in config.regions:
    assert ticket_ids(region) == before, f"{region} does not hold every ticket it held before"
assert global_tables.replicas(config) == {secondary: "ACTIVE"}
assert done.items_after[primary] == done.items_after[secondary] == len(before)
print("every ticket held before is in each region's replica after")  # counts vary by run

# %% [markdown]
# ## Both regions' functions on the global table
#
# Nothing in the functions changes: both regions' functions already name
# `<prefix>-tickets`, and in each region that name is now a replica of the one
# global table. Each region reads and writes its own replica.

# %%
global_tables.functions_table(config)

# %% [markdown]
# A ticket written in either region reaches the other, with no replicator and
# no reconcile:

# %%
made = {region: tickets.create_ticket(deployment.api_url(config, region),
                                      description=f"written in {region}")["id"]
        for region in config.regions}
for region, other in ((primary, secondary), (secondary, primary)):
    net.wait_until(lambda r=region, o=other: made[o] in ticket_ids(r), timeout=30,
                   what=f"the ticket written in {other} to reach {region}")
print("each region holds the ticket written in the other")

# %% [markdown]
# ## The same ticket written in both regions at once
#
# What if two regions change the same ticket before either has heard of the
# other's write?
#
# * **Global table**: *last writer wins*. DynamoDB compares its own write
#   times and every replica keeps the later write (Developer Guide, *How
#   DynamoDB global tables work*). The other write is lost, silently.
# * **The kit's replicator** (`lambda_src/replicator.py`) copies only from the
#   primary to the secondary and skips a change whose `updatedAt` is older
#   than the one the secondary already holds. `updatedAt` is set by the API's
#   function when it writes, so the newer version by the application's clock
#   wins. But the secondary's write never travels back by itself: until the
#   reconcile (the same rule, the other way) the primary keeps its own
#   version, so the regions can disagree.
#
# The cell writes one ticket, with one id, in both regions at the same moment
# (straight into each replica), then waits until both regions hold the same
# version:

# %%
# NBVAL_IGNORE_OUTPUT
from helpers import replication_methods

conflict = replication_methods.same_ticket_in_both_regions(config)
assert conflict["holds afterwards"].nunique() == 1, "the replicas disagree"
conflict

# %% [markdown]
# ## The failover drill again, on the global table
#
# The same lag measurement and the same drill as at the start, now on the
# global table. The drill checks the tables are global first. With the
# replicator gone there is nothing to reconcile: the tickets the secondary
# takes during the failover reach the primary by replication, and the drill
# only waits for them.

# %%
global_lags = replication.measure_lag(config, api_url, n=30)
print("global table:", global_lags.summary())

# %%
# NBVAL_IGNORE_OUTPUT
global_drill = drill.run(config, scenario="bad-deploy", replication="global-tables", live=True)
global_drill.table()

# %%
assert global_drill.rpo_items_after_drain == 0, "an acknowledged write never reached the secondary"
assert global_drill.lost_items == 0, "an acknowledged write is missing after fail-back"
assert global_drill.rto_seconds <= drill.within_bound(global_drill.theoretical_bound_seconds), global_drill.summary()
print(f"RTO within the bound; RPO after drain {global_drill.rpo_items_after_drain}; nothing lost")

# %% [markdown]
# ## Side by side
#
# Both methods on this deployment: the lags and RPOs from the cells above, each
# lag marked *measured* or *modelled* as its helper reported it (in the
# sandbox the global table's lag is the model of one inter-region round trip,
# and the RPO of its drill rests on that model); conflicts, cost and ownership
# as described in this notebook. Every cell is shown whole. The price is the DynamoDB
# pricing page's for replicated writes of a global table (on-demand, US East,
# Standard table class), in effect since 2024-11-01 (quoted in the DynamoDB
# Developer Guide, *Choosing your disaster recovery strategy*; older copies
# show 1.875 USD). The replicator's cost is that of ordinary writes into the
# secondary's table plus its Lambda invocations.

# %%
# NBVAL_IGNORE_OUTPUT
streams = replication_methods.figures(streams_lags, streams_drill)
global_table = replication_methods.figures(global_lags, global_drill)
replication_methods.comparison(streams, global_table)

# %%
# NBVAL_IGNORE_OUTPUT
replication_methods.comparison_chart(streams, global_table)

# %% [markdown]
# Which to choose? Both replicate asynchronously, so neither makes the RPO at
# the switch zero: what was written in the last moment before the primary
# failed may not be in the secondary yet. A global table removes the code,
# the resources and the failure handling you would otherwise own, and
# replicates both ways, which is what a fail-back needs. The replicator is
# worth its keep when you need a rule of your own (a field that decides which
# version wins, a filter, a transformation), or a target that is not a
# DynamoDB table.

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
# * *"DynamoDB refused the replica"* — `global_tables.requirements(config)` shows which requirement is not met; a table named `<prefix>-tickets` still in the secondary goes with `global_tables.release_secondary_table(config)`.
# * *The replica stays `CREATING`* — on AWS it takes minutes for a small table; run the convert cell again, it carries on waiting.
# * *`workshop drill` says the replication stack is missing* — the table is global now: `workshop drill --replication global-tables`.
# * *Module 5 cleans up the global table too* — it deletes the replica before the tables.

# %% [markdown]
# <!--NAVIGATION-->
# [← Module 4 · Test failover](04-test-failover.ipynb) · [Contents](index.ipynb) · [Module 5 · Clean up →](05-clean-up.ipynb)
