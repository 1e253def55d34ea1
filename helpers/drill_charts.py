"""The drill's timeline under the name notebook 04 imports (``drill_charts.drill_timeline``).

It lives in :mod:`helpers.drill.charts`.
"""

from helpers.drill.charts import drill_timeline

__all__ = ["drill_timeline"]
