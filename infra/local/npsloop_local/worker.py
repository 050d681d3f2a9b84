"""A function's worker process: imports the handler once, as Lambda does, then serves invocations over pipes.

Run as `python -m npsloop_local.worker HANDLER IN_FD OUT_FD` with exactly the function's environment.
"""

from __future__ import annotations

import importlib
import json
import os
import struct
import sys
import time
import traceback
import uuid
from typing import Any, BinaryIO

_HEADER = struct.Struct("!I")


def send(stream: BinaryIO, message: Any) -> None:
    data = json.dumps(message).encode()
    stream.write(_HEADER.pack(len(data)) + data)
    stream.flush()


def receive(stream: BinaryIO) -> Any:
    """The next message, or None when the other side has gone."""
    header = stream.read(_HEADER.size)
    if len(header) < _HEADER.size:
        return None
    (size,) = _HEADER.unpack(header)
    return json.loads(stream.read(size))


class LambdaContext:
    """The attributes of Lambda's context object that handlers and Powertools read."""

    def __init__(self, timeout_s: int):
        name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "local")
        self.function_name = name
        self.function_version = "$LATEST"
        self.memory_limit_in_mb = int(os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128"))
        self.invoked_function_arn = f"arn:aws:lambda:{os.environ.get('AWS_REGION')}:123456789012:function:{name}"
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{name}"
        self.log_stream_name = "local"
        self._deadline = time.monotonic() + timeout_s

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def main() -> None:
    handler_path, in_fd, out_fd = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    requests_in, replies_out = os.fdopen(in_fd, "rb"), os.fdopen(out_fd, "wb")
    module_name, function_name = handler_path.rsplit(".", 1)
    handler = getattr(importlib.import_module(module_name), function_name)
    timeout = int(os.environ.get("AWS_LAMBDA_FUNCTION_TIMEOUT", "30"))
    send(replies_out, {"ready": True})
    while (request := receive(requests_in)) is not None:
        try:
            reply = {"result": handler(request["event"], LambdaContext(timeout))}
        except Exception as exc:  # reported like Lambda's errorType/errorMessage; the traceback goes to the log
            traceback.print_exc()
            reply = {"errorType": type(exc).__name__, "errorMessage": str(exc)}
        send(replies_out, reply)


if __name__ == "__main__":
    main()
