"""The values an option can take, shared by the library, the CLI and the HTTP service.

No imports here: ``semhash.cli`` builds its options from these at start-up, and ``semhash
query`` must not pay for NumPy, SciPy or the model module to do so.
"""

PRETRAIN_KINDS = ("rbm", "autoencoder", "none")
VARIANTS = ("plain", "denoising", "sparse", "contractive", "variational")
GRAPH_TEACHERS = ("spectral", "smoothed")
# `semhash export --milvus-index` (semhash.export.MILVUS_INDEXES has their parameters) and the
# largest VARCHAR max_length Milvus accepts
MILVUS_INDEX_TYPES = ("BIN_FLAT", "BIN_IVF_FLAT")
MILVUS_VARCHAR_MAX = 65535
# how one code is written: `semhash encode --format`, the "format" of POST /encode
# (semhash.export.CODE_FORMATTERS writes each, in this order)
CODE_FORMATS = ("hex", "bits", "int8", "uint8", "json")
# the files `semhash export --format` writes (semhash.export.FILE_WRITERS writes each, in this order)
EXPORT_FORMATS = ("jsonl", "parquet", "elasticsearch", "opensearch", "milvus")
# Hamming-ball lookups: by estimated cost, bit flipping, multi-index hashing, a full scan
# (`semhash query --lookup`, the "lookup" of the HTTP search requests, the index's search)
LOOKUP_METHODS = ("auto", "table", "mih", "scan")
# how a query finds and ranks its documents (`semhash query --mode`, the "mode" of the HTTP search
# requests, the index's search; semhash.pipeline.MODES ranks each): the Hamming ball and the
# best documents by BM25 merged, the Hamming ball re-ranked by TF-IDF cosine, or BM25 alone
QUERY_MODES = ("hybrid", "semantic", "lexical")
# the mode of a search that names none (with rerank=False / --no-rerank: semantic, the only mode
# that ranks by the code alone); benchmarks/PRECISE.md has the measurements that chose it
DEFAULT_MODE = "hybrid"
