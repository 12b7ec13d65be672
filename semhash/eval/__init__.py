"""Retrieval quality the way the semantic-hashing literature measures it.

One purpose per module, in the order a run uses them:

- :mod:`.data` reads labelled folders and JSONL (and the 20 Newsgroups preset), cleans mail,
  splits; :mod:`.newsgroups` reads the other 20 Newsgroups corpora; :mod:`.presets` is the
  registry of ``--preset`` names (and reads the stdlib corpus); :mod:`.labels` holds label sets
  and relevance (a shared label);
- :mod:`.features` turns texts into the protocol's TF-IDF with the product's weighting;
- :mod:`.baselines` holds the methods compared with semhash, as pure functions over arrays;
- :mod:`.methods` is the one registry of methods (``--methods`` names) and what each needs
  (:mod:`.extras`: the optional modules of the ``eval`` extra);
- :mod:`.metrics` ranks and scores: precision@k and MAP with random tie breaking, precision-recall;
- :mod:`.run` holds :class:`~.run.EvalConfig` and the run loop;
- :mod:`.results` reads the results dictionary; :mod:`.report` writes ``results.json`` and
  ``report.md``; :mod:`.plots` draws the PNGs;
- :mod:`.cli` is ``semhash evaluate``.

``semhash.evaluate`` re-exports every public name, so ``from semhash import evaluate as ev``
keeps working. Importing this package imports none of its modules.
"""
