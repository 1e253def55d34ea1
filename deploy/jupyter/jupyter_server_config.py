"""The learner's Jupyter server: kernels idle for a while are shut down (culled).

The `start` script puts this folder on ``JUPYTER_CONFIG_PATH``, so it applies on Binder,
on JupyterHub (each learner's server) and wherever `start` launches the server. A kernel
holds 180-220 MB; a learner who opens all ten notebooks would otherwise hold ten of them
(docs/jupyterhub.md: memory per learner). A culled notebook keeps its cells and outputs;
running it again from the top picks up where it was, because what a notebook deployed is
in the workshop's state, not in the kernel.
"""

c = get_config()  # noqa: F821 - Jupyter's config loader provides it

# Shut a kernel down after 10 minutes without a cell running, even with its notebook
# still open in a tab (JupyterLab keeps a connection to every open notebook's kernel,
# so without cull_connected an open tab would keep its kernel forever).
c.MappingKernelManager.cull_idle_timeout = 600
c.MappingKernelManager.cull_interval = 60
c.MappingKernelManager.cull_connected = True
# A cell still running (notebook 04's drill, 04.1's conversion) is never cut short.
c.MappingKernelManager.cull_busy = False
