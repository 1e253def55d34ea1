"""API Gateway in the sandbox: the stages served over HTTP (the executor), custom domains."""
