"""What the notebooks perform on AWS (or the sandbox): a helper per operation a learner names."""
