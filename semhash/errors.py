"""Typed exceptions raised by the library; the CLI turns them into one-line messages."""

from collections.abc import Iterable

# the fix every error about a damaged or incomplete index folder ends with
REBUILD = "rebuild the index with `semhash index`"


class SemhashError(Exception):
    """Base class for every error semhash raises on purpose."""


class CorpusError(SemhashError):
    """The corpus folder is missing, empty, or holds no readable document."""


class NoDocumentsError(CorpusError):
    """A corpus folder with files but no readable document; ``skipped`` lists every file
    skipped, with its reason (``semhash.corpus.Skipped`` records)."""

    def __init__(self, message: str, skipped: Iterable = ()) -> None:
        super().__init__(message)
        self.skipped = list(skipped)


class NotFittedError(SemhashError, ValueError):
    """An estimator was used before ``fit``."""


class ConfigError(SemhashError, ValueError):
    """An option has a value semhash cannot use."""


class IndexNotFoundError(SemhashError):
    """No index exists at the requested name or path."""


class IndexFormatError(SemhashError):
    """An index folder is damaged, incomplete, or from another format version."""


class ManifestFieldError(ValueError):
    """A field of an index manifest breaks its schema (internal to :mod:`semhash.manifest`,
    which turns it into :class:`IndexFormatError` naming the manifest)."""


class QueryError(SemhashError, ValueError):
    """A query cannot be answered (empty, or no known words)."""


class BinaryDataError(ValueError):
    """Data that is not text (raised by ``semhash.corpus.decode_bytes``; a corpus reader skips
    the file). A ``ValueError``, not a :class:`SemhashError`: it never reaches a user."""


class UnknownDocumentError(SemhashError, LookupError):
    """A document id that is not in the index."""


class PostgresError(SemhashError):
    """A PostgreSQL backend operation failed."""


class PostgresConfigError(PostgresError, ValueError):
    """A DSN, table name or document cannot be used with PostgreSQL."""


class PostgresConnectionError(PostgresError):
    """The server cannot be reached or refused the login."""


class PostgresTableError(PostgresError):
    """The table is missing, was not made by semhash, or belongs to another index."""
