"""Running the notebooks: headless runs, kernels, the run site, rehearsed rooms, benchmarks."""
