"""S3 in the sandbox: static website hosting served from the bucket's region."""
