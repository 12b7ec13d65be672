"""The HTTP API's requests and responses as pydantic models: what FastAPI validates (strictly: no
extra fields, no coercion) and what ``/openapi.json`` describes."""

from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
)

from ..checks import MAX_K, MAX_QUERY_CHARS
from ..choices import CODE_FORMATS, DEFAULT_MODE, LOOKUP_METHODS, QUERY_MODES
from ..corpus import MAX_DOC_CHARS
from ..search import Hit
from .limits import MAX_BATCH, MAX_DOCUMENTS, MAX_ID_CHARS

LONE_SURROGATE = "contains a lone surrogate (an unpaired \\ud800-\\udfff escape), which is not text; send valid Unicode"


def has_lone_surrogate(text: str) -> bool:
    """Whether ``text`` holds a lone surrogate (JSON's ``"\\ud800"``), which no UTF-8 can carry."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _valid_unicode(value: str) -> str:
    if has_lone_surrogate(value):
        raise ValueError(LONE_SURROGATE)
    return value


def _not_blank(value: str) -> str:
    _valid_unicode(value)
    if not value.strip():
        raise ValueError("must not be empty or only whitespace")
    return value


QueryText = Annotated[str, StringConstraints(min_length=1, max_length=MAX_QUERY_CHARS), AfterValidator(_not_blank)]
DocText = Annotated[str, StringConstraints(min_length=1, max_length=MAX_DOC_CHARS), AfterValidator(_not_blank)]
DocId = Annotated[str, StringConstraints(min_length=1, max_length=MAX_ID_CHARS), AfterValidator(_not_blank)]
Label = Annotated[str, StringConstraints(max_length=MAX_ID_CHARS), AfterValidator(_valid_unicode)]
K = Annotated[int, Field(ge=1, le=MAX_K, description=f"number of hits, 1 to {MAX_K}")]
Radius = Annotated[int | None, Field(ge=0, le=128, description="Hamming radius (default: 1-3 by code length)")]
Lookup = Literal[LOOKUP_METHODS]  # type: ignore[valid-type]  # the names of choices.LOOKUP_METHODS
CodeFormat = Literal[CODE_FORMATS]  # type: ignore[valid-type]  # the names of choices.CODE_FORMATS
Mode = Literal[QUERY_MODES]  # type: ignore[valid-type]  # the names of choices.QUERY_MODES
MODE_HELP = ("how documents are found and ranked: hybrid (the Hamming ball and the best documents by BM25, one "
             "score of both), semantic (the Hamming ball re-ranked by TF-IDF cosine) or lexical (BM25 alone); "
             f"default {DEFAULT_MODE}, semantic when rerank is false")


# No docstrings on the models below: FastAPI would publish them as descriptions in /openapi.json.


class Strict(BaseModel):  # a request: no field beyond those declared, and no type coercion
    model_config = ConfigDict(strict=True, extra="forbid")


class SearchOptions(Strict):
    k: K = 10
    radius: Radius = None
    rerank: bool = Field(True, description="re-rank the shortlist by TF-IDF cosine")
    lookup: Lookup = "auto"


class TextSearchOptions(SearchOptions):
    mode: Mode | None = Field(None, description=MODE_HELP)

    @field_validator("mode")
    @classmethod
    def _mode_ranks_by_code(cls, mode: str | None, info: ValidationInfo) -> str | None:
        if mode not in (None, "semantic") and info.data.get("rerank") is False:
            raise ValueError(f"rerank false ranks by the code alone, which only mode 'semantic' does, not {mode!r}")
        return mode


class SearchRequest(TextSearchOptions):
    text: QueryText


class BatchSearchRequest(TextSearchOptions):
    texts: list[QueryText] = Field(min_length=1, max_length=MAX_BATCH)


class SimilarRequest(SearchOptions):
    id: DocId


class EncodeRequest(Strict):
    texts: list[QueryText] = Field(min_length=1, max_length=MAX_BATCH)
    format: CodeFormat = "hex"


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


__all__ = [
    "AddRequest", "AddResponse", "BatchSearchRequest", "BatchSearchResponse", "DeleteRequest", "DeleteResponse",
    "DocumentIn", "EncodeRequest", "EncodeResponse", "Health", "LONE_SURROGATE", "Lookup", "Mode", "SearchRequest",
    "SearchResponse", "SimilarRequest", "has_lone_surrogate",
]
