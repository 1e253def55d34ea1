"""The baseline for the replicator benchmark: one PutItem or DeleteItem per stream record.

This is how the original workshop's replication function worked: walk the
batch and write each change to the other region's table on its own. No
batching, no "newest change per key" folding, no stale-version check, no
partial batch response. The kit's ``lambda_src/replicator.py`` is measured
against it by ``workshop bench`` (see ``helpers/runs/bench.py``).
"""

import os

import boto3

_client = None


def target_table():
    return boto3.client("dynamodb", region_name=os.environ["TARGET_REGION"])


def handler(event, context=None):
    global _client
    if _client is None:
        _client = target_table()
    table = os.environ["TARGET_TABLE_NAME"]
    for record in event.get("Records", []):
        data = record["dynamodb"]
        if record["eventName"] == "REMOVE":
            _client.delete_item(TableName=table, Key=data["Keys"])
        else:
            _client.put_item(TableName=table, Item=data["NewImage"])
    return {"written": len(event.get("Records", []))}
