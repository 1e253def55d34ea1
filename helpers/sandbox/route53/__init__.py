"""Route 53 in the sandbox: API answers, change batches, record rules, DNS data, health checkers."""
