"""Running the notebooks: headless runs, kernels, the run site, rehearsed rooms, benchmarks;
and the instructor's live dashboard of the room."""
