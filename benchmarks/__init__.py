"""Benchmarks of semhash: each module is a script, run from the repository root.

    python -m benchmarks.quality           # 20NG P@100 of semhash and baselines -> RESULTS.md
    python -m benchmarks.ablation          # objective/pretraining/variants, validation half -> ABLATION.md
    python -m benchmarks.label_ceiling     # what the labels would buy -> CEILING.md
    python -m benchmarks.graph_ceiling     # what the neighbour graph can tell -> GRAPH.md
    python -m benchmarks.weighted_hamming  # query-weighted Hamming ranking -> WEIGHTED.md
    python -m benchmarks.teacher_scale     # graph teacher cost against corpus size -> TEACHER_SCALE.md
    python -m benchmarks.speed --index ng20  # lookup latency, FAISS and BM25 baselines -> SPEED.md
    python -m benchmarks.make_corpus --n 1000000 --out /tmp/synth-1m  # synthetic labelled corpus (JSONL shards)
    python -m benchmarks.synthetic_check --corpus /tmp/synth-100k --corpus /tmp/synth-1m  # -> SYNTHETIC.md

Each script's docstring says what it measures and how long it takes; ``--help`` lists its
options. Helpers they share are in :mod:`benchmarks.common`.
"""
