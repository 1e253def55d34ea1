# %% [markdown]
# <!--NAVIGATION-->
# [← Module 1 · API layer](01-api-layer.ipynb) · [Contents](index.ipynb) · [Module 3.1 · A second region →](03.1-second-region.ipynb)

# %% [markdown]
# # Module 2 · The UI layer
#
# The front end is a static web page served straight from an S3 bucket with
# website hosting turned on. It needs to know one thing: the API's base URL,
# which the helper writes into `config.js` at upload time.
#
# **You will know it worked** when the website URL answers with the ticket
# page and its configuration points at the API from module 1.

# %%
from helpers import state

config = state.current_config()
print(config.describe())

# %% [markdown]
# ## Deploy the bucket and upload the page
#
# `templates/ui.yaml` creates the bucket and a bucket policy that lets anyone
# *read* objects (`s3:GetObject`) and nothing else. The helper then uploads
# `web/` and a generated `config.js`.
#
# *On AWS this creates:* one S3 bucket with public read access to the page.

# %%
from helpers import deployment
from helpers.views.widgets import Progress

primary = config.primary_region
api_url = deployment.api_url(config, primary)
bar = Progress(total=8, description=f"ui stack in {primary}")
ui = deployment.deploy_ui(config, primary, api_base_url=api_url, progress=bar)
bar.done("deployed")
deployment.stack_outputs_table(config, kinds=["ui"])

# %% [markdown]
# **AWS calls** under that cell show the stack's `CreateStack` (or
# `UpdateStack`) and each `PutObject` of the page. What makes the bucket a
# public website, read from `templates/ui.yaml`:

# %%
from helpers import templates

(templates.excerpt("ui.yaml", "Bucket", why={
    "WebsiteConfiguration": "Turns on S3 website hosting: the page is served at the bucket's website endpoint.",
    "PublicAccessBlockConfiguration": "ACLs stay blocked; public reads may come from the bucket policy alone.",
}) + templates.excerpt("ui.yaml", "BucketPolicy", why={
    "PolicyDocument": "Anyone may read an object (s3:GetObject), and do nothing else: no listing, no writes.",
}))

# %% [markdown]
# ## Check: the website answers
#
# Fetch the page and its configuration the way a browser would.

# %%
from helpers import net

page = net.request("GET", ui["BucketURL"])
settings = net.request("GET", ui["BucketURL"] + "/config.js")
print(page.status_code, page.headers["Content-Type"])
assert page.status_code == 200 and "Wild Rydes" in page.text
assert api_url in settings.text, "config.js should point at the module-1 API"
print("config.js points at", api_url.split("//")[0] + "//…/prod/")
print("Open the web UI in your browser:", deployment.website_url(config, primary))

# %% [markdown]
# Open the link printed above in your browser to list and create tickets (in the
# sandbox it is the website's name under `.localhost`, which a browser reaches on
# your own machine with no set-up; on AWS it is the bucket's website URL). The banner at the top shows which region served
# each request — it will matter in module 4.
#
# This bucket serves the page from this region only. Module 3.1 gives the
# secondary region a bucket and a copy of its own, with its own URL, and
# module 3.3 makes the **API** fail over behind one name. The website itself
# never fails over: each copy stays at its region's address, and only the API
# calls it makes move between regions.
#
# ## Troubleshooting
#
# * *403 from the website* — the bucket policy did not apply; re-run the deploy
#   cell (the stack update restores it).
# * *The page loads but shows "API unreachable"* — `config.js` points at an old
#   API URL; re-run the deploy cell after module 1.

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
# [← Module 1 · API layer](01-api-layer.ipynb) · [Contents](index.ipynb) · [Module 3.1 · A second region →](03.1-second-region.ipynb)
