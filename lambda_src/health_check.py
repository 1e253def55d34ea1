"""GET /health: a "deep ping" that proves this region can read its table.

Route 53 probes this path; any failure here answers 500, which is what turns
the health check unhealthy and fails traffic over to the other region.
"""

import common

SUCCESS = "Successful response reading from DynamoDB table."
FAILURE = "Could not read from DynamoDB table."


@common.api_handler
def handler(event, context):
    region = common.aws_region()
    try:
        # A one-item Scan is the cheapest read that still needs the table to answer.
        common.dynamodb().scan(TableName=common.table_name(), Limit=1)
    except Exception as err:  # any failure means "unhealthy", whatever its cause
        common.log("ERROR", "health check failed", region=region, error=repr(err))
        return 500, {"region": region, "message": FAILURE}
    return 200, {"region": region, "message": SUCCESS}
