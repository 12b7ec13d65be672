"""HTTP service: a small JSON API over one index (``semhash serve``).

FastAPI (on Starlette) validates requests against typed models and describes the API at
``/openapi.json``; uvicorn runs it. There is no ``/docs`` page: FastAPI's Swagger UI and ReDoc
pages load their scripts from a CDN, so they would be blank where the service usually runs
(no internet); any OpenAPI viewer can read ``/openapi.json``.

Every error is a JSON object with a one-line ``message`` (see :func:`create_app`); a request's
work is bounded by ``max_body`` (bytes of the body) and ``max_hits`` (texts x k of a search).

Concurrency: :class:`IndexService` holds the current *snapshot*, a loaded
:class:`~semhash.index.SemanticIndex` that is never changed after it is published. Readers
(``/search``, ``/similar``, ``/encode``, ``/info``) take the current snapshot once per request and
use only it. Writers (``POST``/``DELETE /documents``) are serialized by a lock in the process and
by the index's on-disk writer lock (:func:`semhash.index.update_index`); see
:mod:`.snapshots`.

The package: :mod:`.snapshots` (the index served, and its one writer), :mod:`.limits` (body and
hit limits, the body-size middleware), :mod:`.models` (requests and responses),
:mod:`.responses` (errors as JSON) and :mod:`.app` (the routes).
"""

from ..choices import CODE_FORMATS
from .app import DEFAULT_HOST, DEFAULT_PORT, check_hits_wanted, create_app, hits_out, serve
from .limits import DEFAULT_MAX_BODY, DEFAULT_MAX_HITS, MAX_BATCH, MAX_DOCUMENTS, MAX_ID_CHARS, BodyLimit
from .models import LONE_SURROGATE, has_lone_surrogate
from .responses import json_safe, validation_errors
from .snapshots import IndexService, Snapshot, load_snapshot

__all__ = [
    "BodyLimit", "CODE_FORMATS", "DEFAULT_HOST", "DEFAULT_MAX_BODY", "DEFAULT_MAX_HITS", "DEFAULT_PORT",
    "IndexService", "LONE_SURROGATE", "MAX_BATCH", "MAX_DOCUMENTS", "MAX_ID_CHARS", "Snapshot", "check_hits_wanted",
    "create_app", "has_lone_surrogate", "hits_out", "json_safe", "load_snapshot", "serve", "validation_errors",
]
