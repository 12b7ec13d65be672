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
by the index's on-disk writer lock (:func:`semhash.index.update_index`): the change is applied
to a fresh copy loaded from disk and saved atomically, the saved index is loaded as a new
snapshot, and only then does one assignment publish it. A reader therefore sees the index
before or after an update, never in between. An update made by another process (``semhash add``)
is noticed within ``check_interval`` seconds (the manifest's inode and mtime change) and loaded
the same way.

Endpoints are plain ``def`` functions: FastAPI runs them in its thread pool, so the NumPy work
does not block the event loop.
"""

import math
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np

from . import search as search_mod
from .search import Hit
from .corpus import MAX_DOC_CHARS, Document, extract_title
from .errors import ConfigError, IndexFormatError, IndexNotFoundError, SemhashError
from .export import code_dict, encode_texts, to_bit_strings, to_int8_bytes, to_uint8_lists
from .codes import to_hex
from .index import MANIFEST, SemanticIndex, resolve_index_path, update_index
from .search import MAX_K, MAX_QUERY_CHARS
from .similar import UnknownDocumentError, similar

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
DEFAULT_MAX_BODY = 1_000_000  # bytes of a request body
MAX_BATCH = 1000  # texts in one /search/batch or /encode request
MAX_DOCUMENTS = 10_000  # documents (or ids) in one add or delete request
MAX_ID_CHARS = 1000
# hits one request may ask for (texts x k): 1000 texts at k=100, or a single search at MAX_K
DEFAULT_MAX_HITS = 100_000
CODE_FORMATS = ("hex", "bits", "int8", "uint8", "json")


# --------------------------------------------------------------------------- snapshots


@dataclass(frozen=True)
class Snapshot:
    """A loaded index that no one changes, with what ``/info`` reports about it."""

    index: SemanticIndex
    info: dict
    stamp: tuple


def _manifest_stamp(folder: Path) -> tuple:
    st = os.stat(folder / MANIFEST)
    return (st.st_ino, st.st_mtime_ns, st.st_size)


def load_snapshot(folder: Path) -> Snapshot:
    """Load ``folder`` and prepare it for concurrent readers.

    Everything a query reads lazily from the folder is read now (FAISS where the search uses
    it, the skipped files for ``info``), so a snapshot never reads files of a newer index that
    replaced its folder; the hash table's lookup caches are built once here, not by racing
    threads.
    """
    try:
        stamp = _manifest_stamp(folder)  # before loading: a change during the load is seen next time
    except OSError:
        stamp = None  # no index there: load says so
    index = SemanticIndex.load(folder)
    info = index.info()
    index.skipped = info["skipped_files"]
    if len(index.table) >= getattr(search_mod, "FAISS_FILL_ABOVE", 0):
        index.faiss  # noqa: B018 - load it now, from this folder
    if len(index.table):
        index.table.ball(np.zeros(index.n_bits // 8, dtype=np.uint8), search_mod.default_radius(index.n_bits))
    return Snapshot(index, info, stamp)


class IndexService:
    """The current snapshot of one index folder, and the one writer that replaces it."""

    def __init__(self, name_or_path, check_interval: float = 1.0):
        self.folder = resolve_index_path(name_or_path)
        self.check_interval = check_interval
        self._write_lock = threading.Lock()
        self._snapshot: Snapshot | None = None
        self._checked = 0.0

    def start(self) -> "IndexService":
        self._snapshot = load_snapshot(self.folder)
        self._checked = time.monotonic()
        return self

    def current(self) -> Snapshot:
        """The snapshot to answer one request with (reloaded if another process changed it)."""
        snap = self._snapshot
        if snap is None:
            raise IndexNotFoundError("the service has not loaded its index yet")
        now = time.monotonic()
        if self.check_interval >= 0 and now - self._checked >= self.check_interval:
            self._checked = now
            self._reload_if_changed(snap)
        return self._snapshot

    def _reload_if_changed(self, snap: Snapshot) -> None:
        try:
            changed = _manifest_stamp(self.folder) != snap.stamp
        except OSError:  # between the two renames of a save: keep serving the current one
            return
        if changed and self._write_lock.acquire(blocking=False):  # a writer publishes its own
            try:
                if self._snapshot is snap:
                    self._snapshot = load_snapshot(self.folder)
            except SemhashError:
                pass  # caught mid-swap or damaged: keep serving the snapshot we have
            finally:
                self._write_lock.release()

    def update(self, change):
        """Apply ``change(index)`` under both writer locks, save, then publish the result."""
        with self._write_lock:
            result = update_index(self.folder, change)
            self._snapshot = load_snapshot(self.folder)
        return result

    def add(self, documents: list[Document]) -> dict:
        return self.update(lambda index: index.add(documents))

    def remove(self, ids: list[str]) -> int:
        def change(index):
            known = index.rows_for_ids(ids)
            unknown = [i for i in dict.fromkeys(ids) if i not in known]
            if unknown:
                shown = ", ".join(repr(u) for u in unknown[:5]) + (" ..." if len(unknown) > 5 else "")
                raise UnknownDocumentError(f"unknown document id(s): {shown}; nothing was removed")
            return index.remove(ids)

        return self.update(change)


# --------------------------------------------------------------------------- request size


class BodyLimit:
    """ASGI middleware: refuse a request body over ``max_bytes`` with 413 before the app reads it.

    A declared ``Content-Length`` is checked up front; a chunked body is read up to the limit
    and handed on only when it fits.
    """

    def __init__(self, app, max_bytes: int):
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope, receive, send):
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

    async def _too_large(self, send, size):
        got = f"{size} bytes" if size is not None else "more"
        return await self._refuse(
            send, 413, f"the request body has {got}; the limit is {self.max_bytes} bytes (semhash serve --max-body)")

    @staticmethod
    async def _refuse(send, status: int, message: str):
        import json

        body = json.dumps({"message": message, "detail": message}).encode("utf-8")
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                                (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": body})


# --------------------------------------------------------------------------- the app


def has_lone_surrogate(text: str) -> bool:
    """Whether ``text`` holds a lone surrogate (JSON's ``"\\ud800"``), which no UTF-8 can carry."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


LONE_SURROGATE = "contains a lone surrogate (an unpaired \\ud800-\\udfff escape), which is not text; send valid Unicode"


def _valid_unicode(value: str) -> str:
    if has_lone_surrogate(value):
        raise ValueError(LONE_SURROGATE)
    return value


def _not_blank(value: str) -> str:
    _valid_unicode(value)
    if not value.strip():
        raise ValueError("must not be empty or only whitespace")
    return value


def json_safe(value):
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


def check_hits_wanted(n_texts: int | None, k: int, max_hits: int) -> None:
    """Refuse a request for more than ``max_hits`` hits (``n_texts`` x ``k``; ``None`` texts: a
    single search) with a 422 naming the fields."""
    wanted = (n_texts or 1) * k
    if wanted <= max_hits:
        return
    from fastapi import HTTPException

    asked = f"texts x k: {n_texts} texts x k={k}" if n_texts is not None else f"k: k={k}"
    raise HTTPException(422, f"{asked} asks for {wanted:,} hits; the limit is {max_hits:,} per request "
                             "(semhash serve --max-hits): send fewer texts per request or a smaller k")


def create_app(service: IndexService, max_body: int = DEFAULT_MAX_BODY, max_hits: int = DEFAULT_MAX_HITS):
    """The FastAPI application over ``service`` (already started), wrapped in :class:`BodyLimit`.

    ``max_body`` bytes of request body (413 beyond), ``max_hits`` hits per search request
    (texts x k; 422 beyond). Errors are ``{"message", "detail"}`` JSON: 422 for a request that
    does not fit the schema (``detail`` lists pydantic's errors without their input), 400 for a
    query the index cannot answer, 404 for an unknown id or path, 405 for a wrong method.
    """
    if isinstance(max_hits, bool) or not isinstance(max_hits, int) or max_hits < 1:
        raise ConfigError(f"max_hits must be a positive whole number, got {max_hits!r}")
    from fastapi import FastAPI, Query, Request
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import JSONResponse
    from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints
    from starlette.exceptions import HTTPException as StarletteHTTPException

    from . import __version__

    QueryText = Annotated[str, StringConstraints(min_length=1, max_length=MAX_QUERY_CHARS), AfterValidator(_not_blank)]
    DocText = Annotated[str, StringConstraints(min_length=1, max_length=MAX_DOC_CHARS), AfterValidator(_not_blank)]
    DocId = Annotated[str, StringConstraints(min_length=1, max_length=MAX_ID_CHARS), AfterValidator(_not_blank)]
    Label = Annotated[str, StringConstraints(max_length=MAX_ID_CHARS), AfterValidator(_valid_unicode)]
    K = Annotated[int, Field(ge=1, le=MAX_K, description=f"number of hits, 1 to {MAX_K}")]
    Radius = Annotated[int | None, Field(ge=0, le=128, description="Hamming radius (default: 1-3 by code length)")]
    Lookup = Literal["auto", "table", "mih", "scan"]

    class Strict(BaseModel):
        model_config = ConfigDict(strict=True, extra="forbid")

    class SearchOptions(Strict):
        k: K = 10
        radius: Radius = None
        rerank: bool = Field(True, description="re-rank the shortlist by TF-IDF cosine")
        lookup: Lookup = "auto"

    class SearchRequest(SearchOptions):
        text: QueryText

    class BatchSearchRequest(SearchOptions):
        texts: list[QueryText] = Field(min_length=1, max_length=MAX_BATCH)

    class SimilarRequest(SearchOptions):
        id: DocId

    class EncodeRequest(Strict):
        texts: list[QueryText] = Field(min_length=1, max_length=MAX_BATCH)
        format: Literal["hex", "bits", "int8", "uint8", "json"] = "hex"

    class DocumentIn(Strict):
        id: DocId
        text: DocText
        title: Label | None = Field(None, description="default: the text's first line")
        path: Label | None = Field(None, description="default: the id")

    class AddRequest(Strict):
        documents: list[DocumentIn] = Field(min_length=1, max_length=MAX_DOCUMENTS)

    class DeleteRequest(Strict):
        ids: list[DocId] = Field(min_length=1, max_length=MAX_DOCUMENTS)

    class SearchResponse(BaseModel):
        hits: list[Hit]  # the library's dataclass: one definition of a hit

    class BatchSearchResponse(BaseModel):
        results: list[SearchResponse]

    class EncodeResponse(BaseModel):
        n_bits: int
        format: str
        codes: list[Any]

    class AddResponse(BaseModel):
        added: int
        replaced: int
        skipped: list[dict]
        documents: int

    class DeleteResponse(BaseModel):
        removed: int
        documents: int

    class Health(BaseModel):
        status: str
        documents: int

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

    def error(status: int, message: str, detail=None) -> JSONResponse:
        body = {"message": message, "detail": message if detail is None else detail}
        return JSONResponse(json_safe(body), status_code=status)

    @app.exception_handler(RequestValidationError)
    async def on_invalid(request: Request, exc: RequestValidationError):
        errors = validation_errors(exc.errors())
        first = errors[0] if errors else {"loc": [], "msg": "invalid request"}
        where = ".".join(str(p) for p in first["loc"]) or "body"
        return error(422, f"{where}: {first['msg']}", errors)

    @app.exception_handler(StarletteHTTPException)
    async def on_http(request: Request, exc: StarletteHTTPException):
        return error(exc.status_code, str(exc.detail))

    @app.exception_handler(SemhashError)
    async def on_semhash(request: Request, exc: SemhashError):
        if isinstance(exc, UnknownDocumentError):
            return error(404, str(exc))
        if isinstance(exc, (IndexFormatError, IndexNotFoundError)):
            return error(500, str(exc))
        return error(400, str(exc))

    @app.exception_handler(Exception)
    async def on_bug(request: Request, exc: Exception):  # a bug: still JSON (uvicorn logs the traceback)
        return error(500, f"internal server error ({type(exc).__name__}); the server log has the details")

    def hits_out(hits) -> dict:
        return {"hits": [h.to_dict() for h in hits]}

    def get(path: str, **kw):
        """``@app.get`` that answers ``HEAD`` too (the same headers, no body; HEAD is left out of
        the OpenAPI description, where a second operation would repeat the GET's id)."""
        def register(fn):
            app.head(path, include_in_schema=False, **kw)(fn)
            return app.get(path, **kw)(fn)

        return register

    @get("/health", response_model=Health, summary="Liveness, and the number of documents")
    def health():
        return {"status": "ok", "documents": len(service.current().index.table)}

    @get("/info", summary="Parameters and statistics of the index (as `semhash info --json`)")
    def info() -> dict:
        return service.current().info

    @app.post("/search", response_model=SearchResponse, summary="The k best documents for a text")
    def search_one(req: SearchRequest):
        check_hits_wanted(None, req.k, max_hits)
        index = service.current().index
        return hits_out(index.search(req.text, k=req.k, radius=req.radius, rerank=req.rerank, lookup=req.lookup))

    @app.post("/search/batch", response_model=BatchSearchResponse, summary="/search for each of several texts")
    def search_batch(req: BatchSearchRequest):
        check_hits_wanted(len(req.texts), req.k, max_hits)
        index = service.current().index
        results = index.search_batch(req.texts, k=req.k, radius=req.radius, rerank=req.rerank, lookup=req.lookup)
        return {"results": [hits_out(h) for h in results]}

    @app.post("/similar", response_model=SearchResponse, summary="Documents similar to an indexed document")
    def similar_post(req: SimilarRequest):
        check_hits_wanted(None, req.k, max_hits)
        index = service.current().index
        return hits_out(similar(index, req.id, k=req.k, radius=req.radius, rerank=req.rerank, lookup=req.lookup))

    @get("/documents/{doc_id:path}/similar", response_model=SearchResponse,
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
        n_bits = index.n_bits
        if req.format == "hex":
            codes = to_hex(packed)
        elif req.format == "bits":
            codes = to_bit_strings(packed, n_bits)
        elif req.format == "int8":
            codes = to_int8_bytes(packed)
        elif req.format == "uint8":
            codes = to_uint8_lists(packed)
        else:
            codes = [code_dict(row, n_bits) for row in packed]
        return {"n_bits": n_bits, "format": req.format, "codes": codes}

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
               summary="Remove documents by id (every id must be indexed; otherwise 404 and nothing is removed)")(delete)
    app.post("/documents/delete", response_model=DeleteResponse,
             summary="Remove documents by id (the same as DELETE /documents, for clients without DELETE bodies)")(delete)

    return BodyLimit(app, max_body)


def serve(name_or_path=None, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, max_body: int = DEFAULT_MAX_BODY,
          log_level: str = "info", max_hits: int = DEFAULT_MAX_HITS) -> None:
    """Load the index and serve it until interrupted (blocks)."""
    import uvicorn

    service = IndexService(name_or_path).start()
    uvicorn.run(create_app(service, max_body, max_hits), host=host, port=port, log_level=log_level)


__all__ = ["BodyLimit", "IndexService", "Snapshot", "create_app", "load_snapshot", "serve"]
