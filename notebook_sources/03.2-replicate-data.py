# %% [markdown]
# <!--NAVIGATION-->
# [← Module 3.1 · A second region](03.1-second-region.ipynb) · [Contents](index.ipynb) · [Module 3.3 · Route 53 failover →](03.3-route53-failover.ipynb)

# %% [markdown]
# # Module 3.2 · Replicate the data
#
# Two copies of the application are only useful if the standby has the data.
# The primary table already publishes every change on a DynamoDB stream (the
# API stack turned it on). A replicator function reads that stream and writes
# each change into the secondary region's table: new and changed tickets are
# put, deleted ones removed. It writes in batches, never lets an older version
# overwrite a newer one, and when it gives up on a batch it leaves a note of it
# in a queue, so the batch can be replayed from the stream instead of being
# lost silently.
#
# **You will know it worked** when both tables hold the same tickets and new
# tickets show up in the secondary within about a second.

# %%
from helpers import state

config = state.current_config()
print(config.describe())

# %% [markdown]
# ## Deploy the replicator
#
# `templates/replication.yaml` creates the function, a role that can read
# only this stream and write only the secondary table, the event source
# mapping that feeds it, and the on-failure queue.
#
# *On AWS this creates:* one Lambda function, its role and log group, an event
# source mapping and an SQS queue.
#
# The queue is the mapping's **on-failure destination**. When a batch fails
# every retry, Lambda sends it a JSON description of the batch — the shard and
# the first and last sequence numbers — **not the records themselves**. The
# records stay in the stream, which keeps them for 24 hours;
# `workshop replication redrive` reads each description, fetches those records
# from the stream again and applies them (`workshop replication failed` lists
# what is waiting). After 24 hours they are gone from the stream.

# %%
from helpers import deployment, replication, tickets
from helpers.views.widgets import Progress

primary, secondary = config.regions
bar = Progress(total=8, description="replication stack")
repl = deployment.deploy_replication(config, progress=bar)
bar.done("deployed")
deployment.stack_outputs_table(config, kinds=["replication"])

# %% [markdown]
# ### What makes the replication safe
#
# The event source mapping's settings and the on-failure queue, read from
# `templates/replication.yaml` as it is now:

# %%
from helpers import templates

(templates.excerpt("replication.yaml", "StreamMapping", why={
    "StartingPosition": "Start at the oldest record still in the stream, so changes made before the replicator existed are copied too.",
    "BatchSize": "At most this many stream records per invocation: fewer calls under load.",
    "MaximumBatchingWindowInSeconds": "No waiting to fill a batch: replication lag counts towards the RPO.",
    "ParallelizationFactor": "One batch per shard at a time, so the changes to an item arrive in order.",
    "BisectBatchOnFunctionError": "A failing batch is split in halves until the bad record is alone.",
    "FunctionResponseTypes": "The function names the records that failed (batchItemFailures); Lambda checkpoints at the lowest failed sequence number and retries every record from there, successful ones after it included.",
    "MaximumRetryAttempts": "A poison record is given up on after this many retries instead of blocking its shard.",
    "DestinationConfig": "A batch given up on is described in the failure queue, to be re-read from the stream.",
}) + templates.excerpt("replication.yaml", "FailureQueue", why={
    "MessageRetentionPeriod": "Descriptions wait up to 14 days; the records they point at stay in the stream for 24 hours.",
}))

# %% [markdown]
# A partial batch response narrows a retry but does not make it exact. When the
# function reports failed records, Lambda keeps everything before the lowest
# failed sequence number as done and retries the batch from that record on:
# the failed records **and every record after them**, including those that
# succeeded. (With `BisectBatchOnFunctionError` also on, as here, Lambda splits
# the batch at that record and retries the rest.) So a record can reach the
# function more than once; the replicator is safe with that because writing the
# same image again changes nothing, and a change older than what the secondary
# holds is skipped.

# %% [markdown]
# ## Backfill what existed before
#
# A stream only carries changes made after it was enabled, and it keeps each
# change for 24 hours. Tickets written before the replicator was attached, or
# changed more than 24 hours before it read them, are out of its reach: a scan
# of the primary table copies them once (an item that is already newer in the
# secondary is left alone), so the two tables start level. A scan sees only
# the items that exist now, so it cannot replay deletes: a ticket deleted in the
# primary while nothing was replicating stays in the secondary until removed by
# hand.

# %%
copied = replication.backfill(config)
counts = replication.item_counts(config)
print(f"backfill copied {copied} ticket(s); counts now {counts}")
assert counts[primary] == counts[secondary]

# %% [markdown]
# ## Watch replication live
#
# Create tickets through the primary API while counting the items in both
# tables. The two lines should rise together, the secondary a moment behind.

# %%
from helpers import charts, monitor, net

api_url = deployment.api_url(config, primary)
writes = iter(range(20))

def probe():
    n = next(writes, None)
    if n is not None:
        tickets.create_ticket(api_url, description=f"Replication demo ticket {n + 1}")
    return replication.item_counts(config)

samples = monitor.watch(
    probe, timeout=60, interval=0.1,
    until=lambda s: len(s) > 20 and s.iloc[-1][primary] == s.iloc[-1][secondary],
    chart=lambda s: charts.item_counts(s, [primary, secondary]))
final = samples.iloc[-1]
print(f"final counts: {primary} {int(final[primary])}, {secondary} {int(final[secondary])}")

# %% [markdown]
# ## Replication lag
#
# How long from a successful `POST` in the primary until the ticket can be read
# in the secondary? The helper sends 30 tickets as a steady stream, ten a
# second (as a busy API would see them), and meanwhile looks for each one in
# the secondary table.
#
# The lag is **real time**, in the sandbox too: it is not an AWS duration the
# sandbox scales but the replicator's own work (Lambda polling the stream,
# running the function, writing the secondary) at this machine's speed, plus
# the round trip between the two regions, which the sandbox models with the
# delay a published table gives for the pair, in real time as well.

# %%
lags = replication.measure_lag(config, api_url, n=30)
charts.lag_histogram(lags, time_scale=net.time_scale())

# %%
LAG_LIMIT_S = 5  # far above the sandbox's and AWS's usual second or less

worst = max(lags)
assert worst < LAG_LIMIT_S, f"the slowest took {worst:.1f} s: check the replicator's logs"
print(f"{len(lags)} tickets replicated, each within {LAG_LIMIT_S} s; the slowest took "
      f"{net.real_time(worst, 2)}")
assert replication.item_counts(config)[primary] == replication.item_counts(config)[secondary]

# %% [markdown]
# ## The managed alternative: DynamoDB global tables
#
# Streams and a replicator you write yourself show every moving part, which is
# why the workshop builds them. DynamoDB can do the same job for you: a
# **global table** keeps a replica of the table in each region you add, and
# replicates writes between them itself, usually within a second; with the
# current version (2019.11.21) a replica can be added to a table that already
# holds data. Replication runs in every direction (a write in either region
# reaches the other) and concurrent writes to one item resolve as *last writer
# wins*. What you give up is the control shown here: your own version rule,
# your own failure queue. An extension notebook will compare the two.

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
# * *The counts differ after the backfill* — tickets written meanwhile are still on their way; run the backfill cell again (it copies only what is missing).
# * *The secondary's line never catches up* — `workshop status` shows the event source mapping's state and last result; if it is not `Enabled` on the primary table's stream, re-run "Deploy the replicator".
# * *Messages in the on-failure queue* — each describes a batch that failed every retry (shard and sequence numbers, not the records). Fix the cause, then run `workshop replication redrive` within 24 h, while the records are still in the stream; later, only the backfill can help, and it cannot replay deletes.

# %% [markdown]
# <!--NAVIGATION-->
# [← Module 3.1 · A second region](03.1-second-region.ipynb) · [Contents](index.ipynb) · [Module 3.3 · Route 53 failover →](03.3-route53-failover.ipynb)
