# %% [markdown]
# <!--NAVIGATION-->
# [← Set-up](00-set-up.ipynb) · [Contents](index.ipynb) · [Module 2 · UI layer →](02-ui-layer.ipynb)

# %% [markdown]
# # Module 1 · The API layer
#
# The application's back end is three Lambda functions behind an API Gateway
# REST API, storing tickets in a DynamoDB table:
#
# | route | function | does |
# |---|---|---|
# | `GET /ticket` | ticket-get | lists tickets, newest first, a page at a time |
# | `POST /ticket` | ticket-post | validates and stores a new ticket |
# | `GET /health` | health-check | reads the table: the "deep ping" Route 53 will use later |
#
# Everything is one CloudFormation stack, `templates/api.yaml`, deployed to the
# primary region. **You will know it worked** when the empty API answers
# `{"Items":[],"Count":0,"ScannedCount":0}` and `/health` names your primary
# region.

# %%
from helpers import state

config = state.current_config()
print(config.describe())

# %% [markdown]
# ## Deploy the stack
#
# The helper zips `lambda_src/` (the same sources always give the same bytes,
# so a second deploy changes nothing), uploads it to an artifacts bucket in
# the region and creates or updates the stack. The bar advances with each
# CloudFormation event.
#
# *On AWS this creates:* a DynamoDB table (on-demand), three Lambda functions
# with their roles and log groups, a REST API, and an S3 bucket for the code.
#
# The REST API is **Regional**: API Gateway serves it from this region only,
# at `https://<api id>.execute-api.<region>.amazonaws.com/prod/`. (The other
# kind, edge-optimized, fronts the API with CloudFront.) Module 3 relies on it:
# a Regional API can later answer to your own domain name in each region, and
# Route 53 then chooses the region.

# %%
from helpers import deployment
from helpers.views.widgets import Progress

primary = config.primary_region
bar = Progress(total=30, description=f"api stack in {primary}")
api = deployment.deploy_api(config, primary, progress=bar)
bar.done("deployed")

# %%
deployment.stack_outputs_table(config, kinds=["api"])

# %% [markdown]
# ### What the stack declares
#
# Open **AWS calls** under the deploy cell: the helper uploaded the code
# (`PutObject`), created the stack (`CreateStack`, or `UpdateStack` when it
# already exists) and then polled its events. Each change is shown with the
# AWS CLI command that does the same. The table's settings that the next
# modules rely on, read from `templates/api.yaml` as it is now:

# %%
from helpers import templates

templates.excerpt("api.yaml", "Table", why={
    "BillingMode": "On-demand capacity: nothing to plan, and nothing to pay while idle.",
    "StreamSpecification": "Every change with its old and new image: the replicator of module 3.2 reads this stream.",
    "PointInTimeRecoverySpecification": "A backstop inside the region, beside the copy in the other one.",
})

# %% [markdown]
# ### Who may do what: the roles
#
# Each function runs with an IAM role of its own, and each role allows only
# what its code calls (`templates/api.yaml`):
#
# | role | may | on |
# |---|---|---|
# | ticket-get | `Scan`, `GetItem`; `Query` | the tickets table; its `byCreatedAt` index |
# | ticket-post | `PutItem` | the tickets table |
# | health-check | `Scan`, `GetItem` | the tickets table |
#
# and each may write its own log group. A bug in the post function cannot
# read the table; a bug in the read functions cannot change it.
#
# IAM is **global**: a role belongs to the account, not to a region, and is
# usable in every region (its configuration is managed in one place and copied
# to each region). Everything else in this stack is regional: when module 3.1
# deploys the stack in the secondary region, it gets its own table, functions
# and API, and its own three roles beside these ones.

# %% [markdown]
# ## Check: an empty ticket list
#
# A new table holds no tickets, so the list comes back empty — in exactly the
# shape the original workshop's front end expects.

# %%
import json

from helpers import tickets

api_url = api["ApiUrl"]
status, body = tickets.raw_get(api_url + "ticket")
assert status == 200, f"the API answered {status}: {body}"
already = json.loads(body)["Count"]
if already == 0:  # the first run: byte for byte what the original front end expects
    print(status, body)
    assert body == '{"Items":[],"Count":0,"ScannedCount":0}'
else:  # a re-run: the table keeps its tickets until notebook 05
    print(f"{status}: the table already holds {already} ticket(s) from an earlier run")

# %% [markdown]
# ## Check: the deep health check
#
# `/health` reads the table and reports the region that answered. Route 53
# will call it in module 3 to decide whether the primary is fit to serve.
#
# It is a **deep** ping: it goes through API Gateway, the function and the
# table, as a real request does. A shallow ping (a fixed `200 OK`) would stay
# green while the function was broken, its role lost access or the table was
# unreachable, and users would get errors from a region Route 53 still calls
# healthy. The price of depth: a brief blip in a dependency (a throttled read,
# a slow cold start) fails the health check too, and with it the whole region
# over to the secondary. Module 3.3 comes back to that trade-off.

# %%
status, body, served_by = tickets.health(api_url)
print(status, body)
assert status == 200 and body["region"] == primary
assert body["message"] == "Successful response reading from DynamoDB table."

# %% [markdown]
# ## Try it: create a ticket
#
# The post function validates the body before storing it. A ticket without a
# description is refused with a message instead of being stored:

# %%
try:
    tickets.create_ticket(api_url, priority="high")
except tickets.ApiError as error:
    print(f"refused as expected: {error}")

# %%
ticket = tickets.create_ticket(api_url, description="Bike 42 has a flat tyre",
                               priority="high", createdBy="learner")
print({k: ticket[k] for k in ("description", "priority", "status", "createdBy")})
assert ticket["id"] in {t["id"] for t in tickets.all_tickets(api_url)}

# %% [markdown]
# ## Troubleshooting
#
# * *"no sandbox is running"* — run `workshop sandbox up` in a terminal, then
#   re-run the cells.
# * *"stack … ended in ROLLBACK_COMPLETE"* — the message names the resource that
#   failed; fix it and re-run: the helper deletes the failed stack and retries.
# * *The empty-list check fails on a re-run* — the table keeps tickets from
#   earlier runs; notebook 05 removes everything.

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
# <!--NAVIGATION-->
# [← Set-up](00-set-up.ipynb) · [Contents](index.ipynb) · [Module 2 · UI layer →](02-ui-layer.ipynb)
