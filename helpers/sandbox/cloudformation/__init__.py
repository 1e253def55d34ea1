"""CloudFormation in the sandbox: the resources moto skips or half creates, made real."""
