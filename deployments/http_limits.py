"""Request-body bounds shared by the API's multipart uploads and the dashboard's forms.

Starlette reads a body to the end before its form parser applies any limit of its own, so both count the bytes as
they arrive and stop at the limit, whatever `Content-Length` said (or whether it was sent: chunked bodies have none).
"""

from __future__ import annotations


class BodyTooLarge(Exception):
    """The body streamed past its byte limit."""


def limited_receive(receive, max_bytes: int):
    """Wraps an ASGI receive to count body bytes as they arrive and raise BodyTooLarge past `max_bytes`."""
    received = 0

    async def limited():
        nonlocal received
        message = await receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > max_bytes:
                raise BodyTooLarge()
        return message

    return limited


def declared_too_large(headers, max_bytes: int) -> bool:
    """The request's own `Content-Length` is over the limit: refuse before reading a byte."""
    declared = headers.get("content-length")
    return declared is not None and declared.isdigit() and int(declared) > max_bytes
