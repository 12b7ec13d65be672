"""Command line: thin click commands over the library.

Library errors (:class:`semhash.errors.SemhashError`) become one-line messages and exit code 1;
usage errors exit with 2. Heavy modules (TensorFlow, scikit-learn, the evaluation harness) are
imported inside the commands that need them, so ``semhash query`` starts fast.

The package: :mod:`.app` (the group, shared options, :func:`~.app.fail`), :mod:`.output` (what
commands print) and one module per family of commands: :mod:`.building` (index, corpus, demo),
:mod:`.searching` (query, similar, encode), :mod:`.maintaining` (info, add, remove, outliers)
and :mod:`.exchanging` (export, serve). ``evaluate`` is loaded on first use
(:data:`~.app.LAZY_COMMANDS`: ``semhash.cli_evaluate:evaluate``).
"""

from .app import LAZY_COMMANDS, LazyGroup, cli, fail, given_options, main
from .building import DEMO_QUERIES, corpus_cmd, demo_cmd, index_cmd
from .exchanging import export_cmd, serve_cmd
from .maintaining import add_cmd, compact_cmd, info_cmd, outliers_cmd, remove_cmd
from .searching import encode_cmd, query_cmd, similar_cmd

COMMANDS = (index_cmd, corpus_cmd, demo_cmd, query_cmd, similar_cmd, encode_cmd, info_cmd, add_cmd, remove_cmd, compact_cmd,
            outliers_cmd, export_cmd, serve_cmd)
for _command in COMMANDS:
    cli.add_command(_command)

__all__ = [
    "COMMANDS", "DEMO_QUERIES", "LAZY_COMMANDS", "LazyGroup", "add_cmd", "cli", "compact_cmd", "corpus_cmd", "demo_cmd", "encode_cmd",
    "export_cmd", "fail", "given_options", "index_cmd", "info_cmd", "main", "outliers_cmd", "query_cmd",
    "remove_cmd", "serve_cmd", "similar_cmd",
]
