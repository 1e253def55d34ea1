"""What a notebook cell shows: widgets, charts, live outputs, the architecture, progress."""
