"""One code, written the ways backends take it: hex, bit strings, signed or unsigned bytes, base64.

The packed bytes are semhash's own (most significant bit first, NumPy's ``packbits`` order).
:data:`CODE_FORMATTERS` is the registry behind ``semhash encode --format`` and ``POST /encode``:
adding a format is one function here and one name in :data:`semhash.choices.CODE_FORMATS`.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike

from ..checks import check_list
from ..choices import CODE_FORMATS
from ..codes import to_hex, unpack_bits
from ..errors import ConfigError, QueryError
from ..search import text_terms

if TYPE_CHECKING:  # annotations only
    from ..index import SemanticIndex


def as_packed(packed: ArrayLike) -> np.ndarray:
    """``packed`` as a 2-d ``uint8`` array, one code per row (a single code becomes one row)."""
    packed = np.asarray(packed, dtype=np.uint8)
    return packed[None, :] if packed.ndim == 1 else packed


def to_uint8_lists(packed: ArrayLike) -> list[list[int]]:
    """Each packed code as a list of its bytes, ints 0..255 (Milvus: ``bytes(lst)``)."""
    return as_packed(packed).tolist()


def to_int8_bytes(packed: ArrayLike) -> list[list[int]]:
    """Each packed code as signed bytes, ints -128..127 (two's complement of the same byte).

    The form Elasticsearch ``bit`` and OpenSearch ``binary`` vectors take as a JSON array.
    """
    return as_packed(packed).view(np.int8).tolist()


def from_int8_bytes(values: ArrayLike) -> np.ndarray:
    """Packed uint8 codes from :func:`to_int8_bytes` lists (or any ints -128..255)."""
    arr = np.atleast_2d(np.asarray(values, dtype=np.int16))
    if arr.size and (arr.min() < -128 or arr.max() > 255):
        raise ValueError("byte values must lie in -128..255")
    return (arr & 0xFF).astype(np.uint8)


def to_base64(packed: ArrayLike) -> list[str]:
    """Standard base64 of each packed code's bytes."""
    return [base64.b64encode(bytes(row)).decode("ascii") for row in as_packed(packed)]


def to_bit_strings(packed: ArrayLike, n_bits: int | None = None) -> list[str]:
    """Each code as a string of ``0``/``1``, bit 0 first (the order of ES/OpenSearch dimensions)."""
    bits = unpack_bits(as_packed(packed), n_bits)
    return ["".join("1" if b else "0" for b in row) for row in bits]


def code_dict(packed_row: ArrayLike, n_bits: int) -> dict:
    """Every representation of one code (what ``semhash encode --format json`` prints)."""
    row = as_packed(packed_row)
    return {
        "n_bits": int(n_bits),
        "hex": to_hex(row)[0],
        "bits": to_bit_strings(row, n_bits)[0],
        "int8": to_int8_bytes(row)[0],
        "uint8": to_uint8_lists(row)[0],
        "base64": to_base64(row)[0],
    }


def _hex(packed: np.ndarray, n_bits: int) -> list[str]:
    return to_hex(packed)


def _int8(packed: np.ndarray, n_bits: int) -> list[list[int]]:
    return to_int8_bytes(packed)


def _uint8(packed: np.ndarray, n_bits: int) -> list[list[int]]:
    return to_uint8_lists(packed)


def _code_dicts(packed: np.ndarray, n_bits: int) -> list[dict]:
    return [code_dict(row, n_bits) for row in packed]


# code format (choices.CODE_FORMATS, in that order) -> the JSON value of each code of a packed
# (n, n_bits // 8) array
CODE_FORMATTERS: dict[str, Callable[[np.ndarray, int], list]] = {
    "hex": _hex,
    "bits": to_bit_strings,
    "int8": _int8,
    "uint8": _uint8,
    "json": _code_dicts,
}


def code_values(packed: ArrayLike, n_bits: int, fmt: str) -> list:
    """The JSON value of each code in ``fmt`` (what ``POST /encode`` answers): a string for
    ``hex`` and ``bits``, a list of ints for ``int8`` and ``uint8``, an object for ``json``."""
    packed = as_packed(packed)
    formatter = CODE_FORMATTERS.get(fmt)
    if formatter is None:
        raise ConfigError(f"unknown code format {fmt!r}; choose from {', '.join(CODE_FORMATS)}")
    return formatter(packed, n_bits)


def format_codes(packed: ArrayLike, n_bits: int, fmt: str) -> list[str]:
    """One printable line per code in ``fmt`` (one of :data:`semhash.choices.CODE_FORMATS`):
    the value itself for a string, else its JSON."""
    return [v if isinstance(v, str) else json.dumps(v) for v in code_values(packed, n_bits, fmt)]


def encode_texts(index: SemanticIndex, texts: list[str]) -> np.ndarray:
    """Packed codes of ``texts`` (as ``index.encode``), refusing a text a query would refuse
    (empty, too long, no word of the vocabulary: :func:`semhash.search.text_terms`)."""
    texts = check_list(texts, "texts", "encode_texts")
    if not texts:
        raise QueryError("no text to encode")
    for text in texts:
        text_terms(index, text)
    return np.asarray(index.encode(texts), dtype=np.uint8)


__all__ = [
    "CODE_FORMATTERS", "as_packed", "code_dict", "code_values", "encode_texts", "format_codes", "from_int8_bytes",
    "to_base64", "to_bit_strings", "to_int8_bytes", "to_uint8_lists",
]
