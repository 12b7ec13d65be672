"""Retrieval quality the way the semantic-hashing literature measures it.

The code lives in the :mod:`semhash.eval` package (data, features, metrics, baselines, methods,
run, report, plots); this module re-exports its public names so ``from semhash import evaluate
as ev`` keeps working.

The protocol (Salakhutdinov & Hinton 2009 and the papers that followed), on 20 Newsgroups:

1. strip the mail header, signature footer and quoted lines of every message (the three
   functions of scikit-learn's 20-newsgroups loader, reimplemented in :mod:`semhash.eval.data`);
2. ``CountVectorizer(stop_words="english", max_features=10000, max_df=0.8, min_df=3)`` fitted on
   the training set; documents left with no word are dropped;
3. TF-IDF weights ``log(1 + tf) * log(1 + N / df)``, ``N`` and ``df`` from the training set;
4. the test set is shuffled with a fixed seed and cut in half: validation (tuning) and test
   (reported); the database is the whole training set;
5. every query ranks the database by Hamming distance (ties broken at random, fixed seed), and
   precision@100 counts the top 100 from the query's newsgroup.
"""

from .eval.baselines import (
    BASELINE_CODES,
    bm25_scores,
    itq_bits,
    itq_codes,
    lsh_codes,
    lsi_median_codes,
    lsi_projection,
    median_threshold_bits,
    pca_projection,
    spectral_bits,
    spectral_hashing_codes,
    spectral_hashing_modes,
    tfidf_cosine_scores,
)
from .eval.data import (
    ENV_20NG,
    REMOVABLE_PARTS,
    EvalData,
    LabelledCorpus,
    clean_text,
    default_20ng_root,
    has_train_test_layout,
    load_20ng,
    load_labelled_folder,
    load_train_test,
    split_corpus,
    split_queries,
    strip_newsgroup_footer,
    strip_newsgroup_header,
    strip_newsgroup_quoting,
)
from .eval.extras import EVAL_EXTRA, PLOT_MODULES
from .eval.features import FeatureConfig, ProtocolFeatures, protocol_features, tfidf_weights
from .eval.methods import (
    ALL_METHODS,
    BASELINE_PROJECTIONS,
    HASHING_METHODS,
    METHOD_LABELS,
    METHOD_MODULES,
    METHODS,
    REFERENCE_METHODS,
    ModelOptions,
    baseline_bits_from_projection,
    check_dependencies,
    semhash_codes,
)
from .eval.metrics import (
    precision_at_k,
    precision_at_k_scores,
    precision_recall_by_radius,
    precision_recall_by_rank,
    rank_cutoffs,
    rank_with_random_ties,
)
from .eval.plots import plot_files
from .eval.report import format_table, markdown_table, report_markdown, results_table_rows, write_report
from .eval.results import QUOTED_20NG_P100, result_bits
from .eval.run import (
    BASELINE_INPUTS,
    DEFAULT_BITS,
    DEFAULT_KS,
    PRESETS,
    SPLITS,
    EvalConfig,
    machine_info,
    prepare_data,
    run_evaluation,
)
from .train.itq import itq_rotation

__all__ = [
    "ALL_METHODS", "BASELINE_CODES", "BASELINE_INPUTS", "BASELINE_PROJECTIONS", "DEFAULT_BITS", "DEFAULT_KS",
    "ENV_20NG", "EVAL_EXTRA", "HASHING_METHODS", "METHODS", "METHOD_LABELS", "METHOD_MODULES", "PLOT_MODULES",
    "PRESETS", "QUOTED_20NG_P100", "REFERENCE_METHODS", "REMOVABLE_PARTS", "SPLITS", "EvalConfig", "EvalData",
    "FeatureConfig", "LabelledCorpus", "ModelOptions", "ProtocolFeatures", "baseline_bits_from_projection",
    "bm25_scores", "check_dependencies", "clean_text", "default_20ng_root", "format_table", "has_train_test_layout",
    "itq_bits", "itq_codes", "itq_rotation", "load_20ng", "load_labelled_folder", "load_train_test", "lsh_codes",
    "lsi_median_codes", "lsi_projection", "machine_info", "markdown_table", "median_threshold_bits", "pca_projection",
    "plot_files", "precision_at_k", "precision_at_k_scores", "precision_recall_by_radius", "precision_recall_by_rank",
    "prepare_data", "protocol_features", "rank_cutoffs", "rank_with_random_ties", "report_markdown", "result_bits",
    "results_table_rows", "run_evaluation", "semhash_codes", "spectral_bits", "spectral_hashing_codes",
    "spectral_hashing_modes", "split_corpus", "split_queries", "strip_newsgroup_footer", "strip_newsgroup_header",
    "strip_newsgroup_quoting", "tfidf_cosine_scores", "tfidf_weights", "write_report",
]
