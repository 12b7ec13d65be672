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
