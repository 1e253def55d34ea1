"""The participant's settings, state and module list, and the mode as an object (``target``)."""
