"""DynamoDB in the sandbox: streams and their event source mappings, and global tables."""
