"""IAM in the sandbox: an IAM user's access key is held to the user's policies, as on AWS."""
