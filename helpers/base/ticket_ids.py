"""Which of these ticket ids does a table hold: consistent BatchGetItem, 100 keys a call.

DynamoDB may leave part of a batch unread (``UnprocessedKeys``) when a table
or the account is throttled; those keys are asked again after an exponential
backoff with jitter, as the DynamoDB documentation asks.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterable
from typing import Any

BATCH_GET_MAX = 100  # keys per BatchGetItem call
FIRST_BACKOFF_S = 0.05
MAX_BACKOFF_S = 2.0
MAX_RETRIES = 10  # rounds of UnprocessedKeys before giving up


def present(db: Any, table: str, ids: Iterable[str]) -> set[str]:
    """The ids among ``ids`` that ``table`` holds (strongly consistent reads)."""
    unique = list(dict.fromkeys(ids))
    found: set[str] = set()
    for start in range(0, len(unique), BATCH_GET_MAX):
        request = {table: {"Keys": [{"id": {"S": i}} for i in unique[start:start + BATCH_GET_MAX]],
                           "ConsistentRead": True, "ProjectionExpression": "id"}}
        retries = 0
        while request:
            answer = db.batch_get_item(RequestItems=request)
            found.update(item["id"]["S"] for item in answer["Responses"].get(table, []))
            request = answer.get("UnprocessedKeys") or {}
            if request:
                if retries >= MAX_RETRIES:
                    left = len(request[table]["Keys"])
                    raise TimeoutError(f"{table}: {left} key(s) still unprocessed after "
                                       f"{MAX_RETRIES} retries (the table is throttled)")
                time.sleep(random.uniform(0, min(MAX_BACKOFF_S, FIRST_BACKOFF_S * 2 ** retries)))
                retries += 1
    return found


def missing(db: Any, table: str, ids: Iterable[str]) -> set[str]:
    """The ids among ``ids`` that ``table`` does not hold."""
    unique = set(ids)
    return unique - present(db, table, unique)
