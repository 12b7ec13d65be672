"""Every error as a JSON object with a one-line ``message``: 422 for a request that does not fit
the schema, 400 for a query the index cannot answer, 404 for an unknown id or path, 405 for a
wrong method, 500 for a damaged index or a bug (still JSON)."""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..errors import IndexFormatError, IndexNotFoundError, SemhashError
from ..similar import UnknownDocumentError
from .models import LONE_SURROGATE, has_lone_surrogate


def json_safe(value: Any) -> Any:
    """``value`` with every string made encodable (lone surrogates as ``\\udxxx`` escapes) and
    every non-finite float as its name: what an error response may echo of a bad request."""
    if isinstance(value, str):
        return value.encode("utf-8", "backslashreplace").decode("utf-8") if has_lone_surrogate(value) else value
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)
    if isinstance(value, dict):
        return {json_safe(str(k)): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    return value


def validation_errors(errors: list[dict]) -> list[dict]:
    """Pydantic's errors as ``{"loc", "type", "msg"}`` without the offending ``input`` (it may be
    a megabyte of text, or not encodable as JSON at all: a lone surrogate, NaN, infinity)."""
    out = []
    for err in errors:
        msg, value = str(err.get("msg", "invalid")), err.get("input")
        if err.get("type") == "string_unicode":
            msg = LONE_SURROGATE
        elif isinstance(value, float) and not math.isfinite(value):
            msg = f"{msg}, not {value!r} (JSON has no NaN or infinity)"
        out.append(json_safe({"loc": [p for p in err.get("loc", ()) if p != "body"], "type": err.get("type"),
                              "msg": msg}))
    return out


def error(status: int, message: str, detail: Any = None) -> JSONResponse:
    """``{"message", "detail"}`` with ``status``; ``detail`` is the message unless given."""
    body = {"message": message, "detail": message if detail is None else detail}
    return JSONResponse(json_safe(body), status_code=status)


def status_of(exc: SemhashError) -> int:
    """The HTTP status of a library error: 404 unknown document, 500 damaged or missing index,
    else 400 (the request cannot be answered)."""
    if isinstance(exc, UnknownDocumentError):
        return 404
    if isinstance(exc, (IndexFormatError, IndexNotFoundError)):
        return 500
    return 400


async def on_invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
    """422: the first schema error in ``message``, all of them (without input) in ``detail``."""
    errors = validation_errors(list(exc.errors()))
    first = errors[0] if errors else {"loc": [], "msg": "invalid request"}
    where = ".".join(str(p) for p in first["loc"]) or "body"
    return error(422, f"{where}: {first['msg']}", errors)


async def on_http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    return error(exc.status_code, str(exc.detail))


async def on_semhash(request: Request, exc: SemhashError) -> JSONResponse:
    return error(status_of(exc), str(exc))


async def on_bug(request: Request, exc: Exception) -> JSONResponse:
    """A bug: still JSON (uvicorn logs the traceback)."""
    return error(500, f"internal server error ({type(exc).__name__}); the server log has the details")


def add_error_handlers(app: FastAPI) -> None:
    """Answer every error of ``app`` as JSON."""
    handlers: dict[type[Exception], Callable[[Request, Any], Awaitable[JSONResponse]]] = {
        RequestValidationError: on_invalid,
        StarletteHTTPException: on_http,
        SemhashError: on_semhash,
        Exception: on_bug,
    }
    for exc_class, handler in handlers.items():
        app.add_exception_handler(exc_class, handler)


__all__ = ["add_error_handlers", "error", "json_safe", "status_of", "validation_errors"]
