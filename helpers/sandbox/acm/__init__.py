"""ACM in the sandbox: certificates validated by DNS, as ACM does it."""
