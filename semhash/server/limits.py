"""How much one request may ask of the service: the size of its body (checked before the app reads
it, by :class:`BodyLimit`) and the counts of texts, documents and hits."""

from __future__ import annotations

import json

DEFAULT_MAX_BODY = 1_000_000  # bytes of a request body
MAX_BATCH = 1000  # texts in one /search/batch or /encode request
MAX_DOCUMENTS = 10_000  # documents (or ids) in one add or delete request
MAX_ID_CHARS = 1000
# hits one request may ask for (texts x k): 1000 texts at k=100, or a single search at MAX_K
DEFAULT_MAX_HITS = 100_000


def hits_over_limit(n_texts: int | None, k: int, max_hits: int) -> str | None:
    """Why a request for ``n_texts`` x ``k`` hits (``None`` texts: a single search) asks for
    more than ``max_hits``, naming the fields; ``None`` when it does not."""
    wanted = (n_texts or 1) * k
    if wanted <= max_hits:
        return None
    asked = f"texts x k: {n_texts} texts x k={k}" if n_texts is not None else f"k: k={k}"
    return (f"{asked} asks for {wanted:,} hits; the limit is {max_hits:,} per request "
            "(semhash serve --max-hits): send fewer texts per request or a smaller k")


class BodyLimit:
    """ASGI middleware: refuse a request body over ``max_bytes`` with 413 before the app reads it.

    A declared ``Content-Length`` is checked up front; a chunked body is read up to the limit
    and handed on only when it fits.
    """

    def __init__(self, app, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None:
            try:
                size = int(declared)
            except ValueError:
                return await self._refuse(send, 400, "the Content-Length header is not a number")
            if size > self.max_bytes:
                return await self._too_large(send, size)
            return await self.app(scope, receive, send)
        if scope.get("method") in ("GET", "HEAD", "OPTIONS"):
            return await self.app(scope, receive, send)
        return await self._read_then_pass(scope, receive, send)

    async def _read_then_pass(self, scope, receive, send) -> None:
        """A body of unknown length: read it up to the limit, then hand it on whole."""
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                return await self._too_large(send, None)
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body, sent = b"".join(chunks), False

        async def replay():
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        return await self.app(scope, replay, send)

    async def _too_large(self, send, size: int | None) -> None:
        got = f"{size} bytes" if size is not None else "more"
        return await self._refuse(
            send, 413, f"the request body has {got}; the limit is {self.max_bytes} bytes (semhash serve --max-body)")

    @staticmethod
    async def _refuse(send, status: int, message: str) -> None:
        body = json.dumps({"message": message, "detail": message}).encode("utf-8")
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                                (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": body})


__all__ = ["BodyLimit", "DEFAULT_MAX_BODY", "DEFAULT_MAX_HITS", "MAX_BATCH", "MAX_DOCUMENTS", "MAX_ID_CHARS",
           "hits_over_limit"]
