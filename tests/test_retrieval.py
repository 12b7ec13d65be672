"""Retrieval works on real data: a slice of 20 Newsgroups, held-out queries from its test split."""

import numpy as np
import pytest
from conftest import NG20, SEED

GROUPS = ["comp.graphics", "rec.autos", "sci.space", "talk.politics.guns"]
PER_GROUP = 150


@pytest.mark.slow
@pytest.mark.skipif(not NG20.is_dir(), reason="20news-bydate not available")
def test_precision_at_10_on_20ng_slice(tmp_path, capsys):
    from semhash.corpus import read_file
    from semhash.index import IndexConfig, SemanticIndex
    from semhash.model import ModelConfig

    def load(split):
        docs = []
        for g in GROUPS:
            for path in sorted((NG20 / split / g).iterdir())[:PER_GROUP]:
                docs.extend(read_file(path, f"{g}/{path.name}")[0])
        return docs

    train, test = load("train"), load("test")
    config = IndexConfig(model=ModelConfig(n_bits=32, epochs=20, pretrain_epochs=5, seed=SEED))
    idx = SemanticIndex.build(train, config)
    idx.save(tmp_path / "ng")
    idx = SemanticIndex.load(tmp_path / "ng")
    queries = test[::3]
    results = idx.search_batch([d.text for d in queries], k=10)
    precision = np.mean([np.mean([h.id.split("/")[0] == q.id.split("/")[0] for h in hits])
                         for q, hits in zip(queries, results)])
    hamming = idx.search_batch([d.text for d in queries], k=10, rerank=False)
    p_hamming = np.mean([np.mean([h.id.split("/")[0] == q.id.split("/")[0] for h in hits])
                         for q, hits in zip(queries, hamming)])
    with capsys.disabled():
        print(f"\n20NG 4-group slice: P@10 re-ranked {precision:.3f}, Hamming only {p_hamming:.3f} (chance 0.25)")
    assert precision > 0.6
    assert p_hamming > 0.55
