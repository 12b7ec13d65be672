"""The FastAPI application: its routes, registered by family over one :class:`IndexService`.

Endpoints are plain ``def`` functions: FastAPI runs them in its thread pool, so the NumPy work
does not block the event loop. Each reader takes the service's current snapshot once.
"""

import os
from collections.abc import Callable, Iterable
from typing import Annotated

from fastapi import FastAPI, HTTPException, Query

from .. import __version__
from ..checks import MAX_K, is_whole
from ..corpus import Document, extract_title
from ..errors import ConfigError
from ..export import code_values, encode_texts
from ..search import Hit
from ..similar import similar
from .limits import DEFAULT_MAX_BODY, DEFAULT_MAX_HITS, BodyLimit, hits_over_limit
from .models import (
    AddRequest,
    AddResponse,
    BatchSearchRequest,
    BatchSearchResponse,
    DeleteRequest,
    DeleteResponse,
    EncodeRequest,
    EncodeResponse,
    Health,
    Lookup,
    SearchRequest,
    SearchResponse,
    SimilarRequest,
)
from .responses import add_error_handlers
from .snapshots import IndexService

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000


def check_hits_wanted(n_texts: int | None, k: int, max_hits: int) -> None:
    """Refuse a request for more than ``max_hits`` hits (``n_texts`` x ``k``; ``None`` texts: a
    single search) with a 422 naming the fields."""
    why = hits_over_limit(n_texts, k, max_hits)
    if why is not None:
        raise HTTPException(422, why)


def hits_out(hits: Iterable[Hit]) -> dict:
    """A search's hits as the response body."""
    return {"hits": [h.to_dict() for h in hits]}


def create_app(service: IndexService, max_body: int = DEFAULT_MAX_BODY, max_hits: int = DEFAULT_MAX_HITS) -> BodyLimit:
    """The FastAPI application over ``service`` (already started), wrapped in :class:`BodyLimit`.

    ``max_body`` bytes of request body (413 beyond), ``max_hits`` hits per search request
    (texts x k; 422 beyond). Errors are ``{"message", "detail"}`` JSON: 422 for a request that
    does not fit the schema (``detail`` lists pydantic's errors without their input), 400 for a
    query the index cannot answer, 404 for an unknown id or path, 405 for a wrong method.
    """
    if not is_whole(max_hits) or max_hits < 1:
        raise ConfigError(f"max_hits must be a positive whole number, got {max_hits!r}")
    app = FastAPI(
        title="semhash",
        version=__version__,
        description="Semantic hashing retrieval over one index: search, similar documents, codes, live updates.",
        docs_url=None,  # Swagger UI and ReDoc load their scripts from a CDN: blank offline
        redoc_url=None,
        swagger_ui_oauth2_redirect_url=None,
    )
    app.state.service = service
    app.state.max_hits = max_hits
    add_error_handlers(app)
    add_status_routes(app, service)
    add_search_routes(app, service, max_hits)
    add_document_routes(app, service)
    return BodyLimit(app, max_body)


def get_and_head(app: FastAPI, path: str, **kw) -> Callable:
    """``@app.get`` that answers ``HEAD`` too (the same headers, no body; HEAD is left out of
    the OpenAPI description, where a second operation would repeat the GET's id)."""
    def register(fn):
        app.head(path, include_in_schema=False, **kw)(fn)
        return app.get(path, **kw)(fn)

    return register


def add_status_routes(app: FastAPI, service: IndexService) -> None:
    """``GET /health`` and ``GET /info``."""
    @get_and_head(app, "/health", response_model=Health, summary="Liveness, and the number of documents")
    def health():
        return {"status": "ok", "documents": len(service.current().index.table)}

    @get_and_head(app, "/info", summary="Parameters and statistics of the index (as `semhash info --json`)")
    def info() -> dict:
        return service.current().info


def add_search_routes(app: FastAPI, service: IndexService, max_hits: int) -> None:
    """``/search``, ``/search/batch``, ``/similar``, ``/documents/{id}/similar`` and ``/encode``."""
    @app.post("/search", response_model=SearchResponse, summary="The k best documents for a text")
    def search_one(req: SearchRequest):
        check_hits_wanted(None, req.k, max_hits)
        index = service.current().index
        return hits_out(index.search(req.text, k=req.k, radius=req.radius, rerank=req.rerank, lookup=req.lookup,
                                     mode=req.mode))

    @app.post("/search/batch", response_model=BatchSearchResponse, summary="/search for each of several texts")
    def search_batch(req: BatchSearchRequest):
        check_hits_wanted(len(req.texts), req.k, max_hits)
        index = service.current().index
        results = index.search_batch(req.texts, k=req.k, radius=req.radius, rerank=req.rerank, lookup=req.lookup,
                                     mode=req.mode)
        return {"results": [hits_out(h) for h in results]}

    @app.post("/similar", response_model=SearchResponse, summary="Documents similar to an indexed document")
    def similar_post(req: SimilarRequest):
        check_hits_wanted(None, req.k, max_hits)
        index = service.current().index
        return hits_out(similar(index, req.id, k=req.k, radius=req.radius, rerank=req.rerank, lookup=req.lookup))

    @get_and_head(app, "/documents/{doc_id:path}/similar", response_model=SearchResponse,
                  summary="Documents similar to an indexed document (ids may contain '/')")
    def similar_get(doc_id: str, k: Annotated[int, Query(ge=1, le=MAX_K)] = 10,
                    radius: Annotated[int | None, Query(ge=0, le=128)] = None,
                    rerank: bool = True, lookup: Lookup = "auto"):
        check_hits_wanted(None, k, max_hits)
        index = service.current().index
        return hits_out(similar(index, doc_id, k=k, radius=radius, rerank=rerank, lookup=lookup))

    @app.post("/encode", response_model=EncodeResponse, summary="Binary codes of texts (as `semhash encode`)")
    def encode(req: EncodeRequest):
        index = service.current().index
        packed = encode_texts(index, req.texts)
        return {"n_bits": index.n_bits, "format": req.format, "codes": code_values(packed, index.n_bits, req.format)}


def add_document_routes(app: FastAPI, service: IndexService) -> None:
    """``POST /documents`` (add), ``DELETE /documents`` and ``POST /documents/delete`` (remove)."""
    @app.post("/documents", response_model=AddResponse,
              summary="Add documents without retraining; a document whose id is indexed is replaced")
    def add_documents(req: AddRequest):
        docs = [Document(id=d.id, path=d.path if d.path is not None else d.id,
                         title=d.title if d.title is not None else extract_title(d.text), text=d.text)
                for d in req.documents]
        result = service.add(docs)
        return {**result, "documents": len(service.current().index.table)}

    def delete(req: DeleteRequest):
        removed = service.remove(list(req.ids))
        return {"removed": removed, "documents": len(service.current().index.table)}

    app.delete("/documents", response_model=DeleteResponse,
               summary="Remove documents by id (every id must be indexed; otherwise 404 and nothing is "
                       "removed)")(delete)
    app.post("/documents/delete", response_model=DeleteResponse,
             summary="Remove documents by id (the same as DELETE /documents, for clients without DELETE "
                     "bodies)")(delete)


def serve(name_or_path: str | os.PathLike | None = None, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT,
          max_body: int = DEFAULT_MAX_BODY, log_level: str = "info", max_hits: int = DEFAULT_MAX_HITS) -> None:
    """Load the index and serve it until interrupted (blocks)."""
    import uvicorn  # the HTTP server, needed only to serve (create_app alone does not)

    service = IndexService(name_or_path).start()
    uvicorn.run(create_app(service, max_body, max_hits), host=host, port=port, log_level=log_level)


__all__ = [
    "DEFAULT_HOST", "DEFAULT_PORT", "check_hits_wanted", "create_app", "get_and_head", "hits_out", "serve",
]
