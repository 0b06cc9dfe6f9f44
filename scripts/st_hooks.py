"""Schemathesis hooks of scripts/fuzz.sh: the import's NDJSON body is text as written."""
import json

import schemathesis


@schemathesis.serializer("application/x-ndjson")
def ndjson(ctx, value):
    if isinstance(value, bytes):
        return {"data": value}
    if not isinstance(value, str):
        # out-of-spec bodies: one JSON value on one line
        value = json.dumps(value)
    return {"data": value.encode("utf-8")}
