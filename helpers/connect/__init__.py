"""Reaching the workshop: boto3 sessions for the mode, the call log, HTTP and DNS, the sandbox's
admin client.
"""
