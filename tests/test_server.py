"""The HTTP service, through a real `semhash serve` process on 127.0.0.1."""

from __future__ import annotations

import http.client
import json
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")

from semhash.search import MAX_K

HOST = "127.0.0.1"
MAX_BODY = 100_000
START_TIMEOUT = 60.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


class Server:
    """A `semhash serve` subprocess and a tiny JSON client for it."""

    def __init__(self, folder: Path, log: Path, max_body: int = MAX_BODY, max_hits: int | None = None):
        self.folder, self.log_path, self.max_body, self.max_hits = folder, log, max_body, max_hits
        self.port = free_port()
        self.base = f"http://{HOST}:{self.port}"

    def start(self) -> Server:
        self.log = open(self.log_path, "w")  # noqa: SIM115 - closed by stop()
        cmd = [sys.executable, "-c", "from semhash.cli import main; main()", "serve", "--index", str(self.folder),
               "--host", HOST, "--port", str(self.port), "--max-body", str(self.max_body), "--log-level", "warning"]
        if self.max_hits is not None:
            cmd += ["--max-hits", str(self.max_hits)]
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"semhash serve exited with {self.proc.returncode}:\n{self.output()}")
            try:
                if self.request("GET", "/health")[0] == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"semhash serve did not answer /health in {START_TIMEOUT}s:\n{self.output()}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=15)
        self.log.close()

    def output(self) -> str:
        self.log.flush()
        return self.log_path.read_text(errors="replace")

    def request(self, method: str, path: str, body=None, raw: bytes | None = None, timeout: float = 30.0):
        """``(status, parsed JSON body)``; error statuses are returned, not raised."""
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        req = urllib.request.Request(self.base + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"} if data is not None else {})
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                return resp.status, json.loads(resp.read() or b"null")
        except urllib.error.HTTPError as exc:
            payload = exc.read()
            try:
                return exc.code, json.loads(payload)
            except ValueError:
                return exc.code, payload.decode(errors="replace")

    def post(self, path, body):
        return self.request("POST", path, body)

    def get(self, path):
        return self.request("GET", path)


def start_server(small_index, tmp_path: Path, **kw) -> Server:
    folder = tmp_path / "indexes" / "small"
    shutil.copytree(small_index[0], folder)
    return Server(folder, tmp_path / "serve.log", **kw).start()


@pytest.fixture(scope="module")
def server(small_index, tmp_path_factory):
    """A read-only server for the tests that do not change the index."""
    srv = start_server(small_index, tmp_path_factory.mktemp("serve"))
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture()
def writable_server(small_index, tmp_path):
    srv = start_server(small_index, tmp_path)
    try:
        yield srv
    finally:
        srv.stop()


def check_hits(hits, n_bits: int, known_ids=None) -> None:
    assert isinstance(hits, list)
    for i, h in enumerate(hits, 1):
        assert set(h) == {"rank", "id", "title", "snippet", "path", "distance", "score", "row"}
        assert h["rank"] == i
        assert isinstance(h["id"], str) and h["id"]
        assert isinstance(h["distance"], int) and 0 <= h["distance"] <= n_bits
        assert isinstance(h["score"], float)
        if known_ids is not None:
            assert h["id"] in known_ids
    assert len({h["id"] for h in hits}) == len(hits)


# --------------------------------------------------------------------------- reads


def test_health_and_info(server, small_index):
    n_docs = len(small_index[1].table)
    assert server.get("/health") == (200, {"status": "ok", "documents": n_docs})
    status, info = server.get("/info")
    assert status == 200
    assert info["documents"] == n_docs and info["n_bits"] == 16
    assert info["path"] == str(server.folder)


def test_search_matches_the_library(server, small_index):
    idx = small_index[1]
    status, body = server.post("/search", {"text": "rocket launch orbit", "k": 5})
    assert status == 200
    check_hits(body["hits"], 16)
    assert len(body["hits"]) == 5
    expected = [h.to_dict() for h in idx.search("rocket launch orbit", k=5)]
    assert body["hits"] == expected
    assert all(h["id"].startswith("space/") for h in body["hits"])


def test_search_options(server):
    status, body = server.post("/search", {"text": "flour butter", "k": 3, "radius": 2, "rerank": False,
                                           "lookup": "scan"})
    assert status == 200
    dists = [h["distance"] for h in body["hits"]]
    assert dists == sorted(dists) and len(dists) == 3


@pytest.mark.parametrize("mode", ["hybrid", "semantic", "lexical"])
def test_search_modes_match_the_library(server, small_index, mode):
    idx = small_index[1]
    texts = ["pasta tomato sauce", "bank loan interest"]
    status, body = server.post("/search", {"text": texts[0], "k": 6, "mode": mode})
    assert status == 200, body
    assert body["hits"] == [h.to_dict() for h in idx.search(texts[0], k=6, mode=mode)]
    status, body = server.post("/search/batch", {"texts": texts, "k": 6, "mode": mode})
    assert status == 200, body
    assert [r["hits"] for r in body["results"]] == [[h.to_dict() for h in hits]
                                                    for hits in idx.search_batch(texts, k=6, mode=mode)]
    # no mode: the library's default (semantic with rerank false)
    assert server.post("/search", {"text": texts[0], "k": 6})[1]["hits"] == \
        [h.to_dict() for h in idx.search(texts[0], k=6)]
    assert server.post("/search", {"text": texts[0], "k": 6, "rerank": False})[1]["hits"] == \
        [h.to_dict() for h in idx.search(texts[0], k=6, mode="semantic", rerank=False)]


def test_search_batch(server, small_index):
    texts = ["rocket launch", "bake a cake with butter", "stock market"]
    status, body = server.post("/search/batch", {"texts": texts, "k": 4})
    assert status == 200
    assert len(body["results"]) == 3
    for text, res in zip(texts, body["results"]):
        check_hits(res["hits"], 16)
        assert res["hits"] == [h.to_dict() for h in small_index[1].search(text, k=4)]


def test_similar_get_and_post(server, small_index):
    doc_id = "cooking/cooking-003.txt"
    status, body = server.get(f"/documents/{doc_id}/similar?k=5")
    assert status == 200
    hits = body["hits"]
    check_hits(hits, 16)
    assert len(hits) == 5 and doc_id not in [h["id"] for h in hits]
    assert sum(h["id"].startswith("cooking/") for h in hits) >= 4
    # an escaped '/' in the id works too, and POST /similar answers the same
    quoted = urllib.parse.quote(doc_id, safe="")
    assert server.get(f"/documents/{quoted}/similar?k=5") == (200, body)
    assert server.post("/similar", {"id": doc_id, "k": 5}) == (200, body)


def test_similar_library_function(small_index):
    from semhash.similar import UnknownDocumentError, similar

    idx = small_index[1]
    hits = similar(idx, "space/space-000.txt", k=len(idx.table))
    assert len(hits) == len(idx.table) - 1  # everything but itself
    assert "space/space-000.txt" not in {h.id for h in hits}
    with pytest.raises(UnknownDocumentError, match="unknown document id 'nope'"):
        similar(idx, "nope")


@pytest.mark.parametrize("rerank", [True, False])
def test_similar_answers_what_a_search_for_the_documents_text_answers(small_index, topical_corpus, rerank):
    from semhash.similar import similar

    idx = small_index[1]
    for doc_id in ("space/space-000.txt", "finance/finance-007.txt"):
        text = (topical_corpus / doc_id).read_text()
        for mode in ("semantic", "hybrid", "lexical") if rerank else ("semantic",):  # similar: semantic by default
            want = [(h.id, h.distance, h.score) for h in idx.search(text, k=9, rerank=rerank, mode=mode)
                    if h.id != doc_id][:8]
            got = [(h.id, h.distance, h.score)
                   for h in similar(idx, doc_id, k=8, rerank=rerank, **({} if mode == "semantic" else {"mode": mode}))]
            assert [g[:2] for g in got] == [w[:2] for w in want]
            assert [g[2] for g in got] == pytest.approx([w[2] for w in want], abs=1e-5)


def test_encode_formats(server, small_index):
    from semhash.export import encode_texts, format_codes

    texts = ["rocket launch", "stock market"]
    packed = encode_texts(small_index[1], texts)
    for fmt in ("hex", "bits", "int8", "uint8"):
        status, body = server.post("/encode", {"texts": texts, "format": fmt})
        assert status == 200, body
        assert body["n_bits"] == 16 and body["format"] == fmt
        assert [json.dumps(c) if isinstance(c, list) else c for c in body["codes"]] == format_codes(packed, 16, fmt)
    status, body = server.post("/encode", {"texts": texts, "format": "json"})
    assert [json.dumps(c) for c in body["codes"]] == format_codes(packed, 16, "json")
    assert server.post("/encode", {"texts": texts})[1]["format"] == "hex"


def test_openapi_describes_the_endpoints(server):
    status, spec = server.get("/openapi.json")
    assert status == 200
    paths = spec["paths"]
    for path in ("/search", "/search/batch", "/similar", "/documents/{doc_id}/similar", "/encode", "/documents",
                 "/documents/delete", "/info", "/health"):
        assert path in paths, path
    assert set(paths["/documents"]) == {"post", "delete"}
    k = spec["components"]["schemas"]["SearchRequest"]["properties"]["k"]
    assert k["maximum"] == MAX_K and k["minimum"] == 1
    mode = json.dumps(spec["components"]["schemas"]["SearchRequest"]["properties"]["mode"])
    assert all(name in mode for name in ("hybrid", "semantic", "lexical")) and "BM25" in mode


# --------------------------------------------------------------------------- bad requests


@pytest.mark.parametrize("body, status, field", [
    ({"text": ""}, 422, "text"),
    ({"text": "   "}, 422, "text"),
    ({}, 422, "text"),
    ({"text": "rocket", "k": MAX_K + 1}, 422, "k"),
    ({"text": "rocket", "k": 0}, 422, "k"),
    ({"text": "rocket", "k": "5"}, 422, "k"),
    ({"text": "rocket", "k": 2.5}, 422, "k"),
    ({"text": "rocket", "k": True}, 422, "k"),
    ({"text": 42}, 422, "text"),
    ({"text": "rocket", "rerank": "yes"}, 422, "rerank"),
    ({"text": "rocket", "radius": -1}, 422, "radius"),
    ({"text": "rocket", "lookup": "psychic"}, 422, "lookup"),
    ({"text": "rocket", "mode": "fuzzy"}, 422, "mode"),
    ({"text": "rocket", "mode": 1}, 422, "mode"),
    ({"text": "rocket", "mode": "hybrid", "rerank": False}, 422, "mode"),
    ({"text": "rocket", "kk": 3}, 422, "kk"),
    ({"text": "rocket", "radius": 17}, 400, "radius"),  # more than the 16-bit code length
    ({"text": "zzzz qqqq"}, 400, "vocabulary"),
])
def test_bad_search_requests(server, body, status, field):
    got, payload = server.post("/search", body)
    assert got == status, payload
    assert field in payload["message"], payload


def test_bad_json_and_types(server):
    status, payload = server.request("POST", "/search", raw=b"{not json")
    assert status == 422 and "json" in payload["message"].lower()
    status, payload = server.post("/search", ["rocket"])
    assert status == 422
    status, payload = server.post("/search/batch", {"texts": "rocket"})
    assert status == 422 and payload["message"].startswith("texts")
    status, payload = server.post("/search/batch", {"texts": ["rocket", ""]})
    assert status == 422 and payload["message"].startswith("texts.1")
    status, payload = server.post("/encode", {"texts": ["rocket"], "format": "base32"})
    assert status == 422 and payload["message"].startswith("format")
    status, payload = server.post("/encode", {"texts": ["zzzz"]})
    assert status == 400 and "vocabulary" in payload["message"]
    status, payload = server.get("/documents/space/space-000.txt/similar?k=abc")
    assert status == 422 and "k" in payload["message"]
    status, payload = server.get(f"/documents/space/space-000.txt/similar?k={MAX_K + 1}")
    assert status == 422 and "k" in payload["message"]


def test_unknown_ids_are_404(server):
    status, payload = server.get("/documents/no/such/doc/similar")
    assert status == 404 and "unknown document id 'no/such/doc'" in payload["message"]
    status, payload = server.post("/similar", {"id": "nope"})
    assert status == 404 and "nope" in payload["message"]
    status, payload = server.request("DELETE", "/documents", {"ids": ["space/space-000.txt", "nope"]})
    assert status == 404 and "'nope'" in payload["message"] and "nothing was removed" in payload["message"]
    assert server.get("/health")[1]["documents"] == 90  # nothing removed
    assert server.get("/nowhere")[0] == 404


def test_oversized_body_is_413(server):
    status, payload = server.post("/search", {"text": "rocket " * (MAX_BODY // 7 + 10)})
    assert status == 413
    assert str(MAX_BODY) in payload["message"] and "--max-body" in payload["message"]
    # a chunked body (no Content-Length) is measured as it arrives
    conn = http.client.HTTPConnection(HOST, server.port, timeout=30)
    try:
        chunk = json.dumps({"text": "rocket " * 20_000}).encode()
        conn.request("POST", "/search", body=iter([chunk[: len(chunk) // 2], chunk[len(chunk) // 2 :]]),
                     headers={"Content-Type": "application/json", "Transfer-Encoding": "chunked"},
                     encode_chunked=True)
        resp = conn.getresponse()
        assert resp.status == 413
    finally:
        conn.close()
    # a chunked body under the limit goes through
    conn = http.client.HTTPConnection(HOST, server.port, timeout=30)
    try:
        conn.request("POST", "/search", body=iter([b'{"text": "rocket', b' launch", "k": 2}']),
                     headers={"Content-Type": "application/json", "Transfer-Encoding": "chunked"},
                     encode_chunked=True)
        resp = conn.getresponse()
        assert resp.status == 200 and len(json.loads(resp.read())["hits"]) == 2
    finally:
        conn.close()
    assert server.get("/health")[0] == 200


# Raw JSON bodies: "\ud800" is JSON's escape of a lone surrogate, which no UTF-8 text can hold
# (Python's json.loads accepts it, and NaN, Infinity and 1e400 -> inf, as FastAPI reads bodies).
UNENCODABLE = [
    ("POST", "/search", rb'{"text": "space \ud800 shuttle"}', "text"),
    ("POST", "/search", rb'{"text": "rocket \udfff"}', "text"),
    ("POST", "/search", rb'{"text": "rocket", "lookup": "\ud800"}', "lookup"),
    ("POST", "/search", rb'{"text": "rocket", "\ud800": 1}', "body"),
    ("POST", "/search", rb'{"text": "rocket", "k": 1e400}', "k"),
    ("POST", "/search", rb'{"text": "rocket", "k": -1e400}', "k"),
    ("POST", "/search", rb'{"text": "rocket", "k": NaN}', "k"),
    ("POST", "/search", rb'{"text": "rocket", "k": Infinity}', "k"),
    ("POST", "/search", rb'{"text": "rocket", "radius": NaN}', "radius"),
    ("POST", "/search", rb'{"text": NaN}', "text"),
    ("POST", "/search", rb'"\ud800"', "body"),
    ("POST", "/search/batch", rb'{"texts": ["rocket", "a \ud800 b"]}', "texts.1"),
    ("POST", "/search/batch", rb'{"texts": ["rocket"], "k": 1e400}', "k"),
    ("POST", "/similar", rb'{"id": "space/\ud800"}', "id"),
    ("POST", "/similar", rb'{"id": "space/space-000.txt", "k": NaN}', "k"),
    ("POST", "/encode", rb'{"texts": ["\udc00"]}', "texts.0"),
    ("POST", "/encode", rb'{"texts": ["rocket"], "format": "\ud800"}', "format"),
    ("POST", "/documents", rb'{"documents": [{"id": "new\ud800", "text": "rocket"}]}', "documents.0.id"),
    ("POST", "/documents", rb'{"documents": [{"id": "new", "text": "rocket \ud800"}]}', "documents.0.text"),
    ("POST", "/documents", rb'{"documents": [{"id": "new", "text": "rocket", "title": "\ud800"}]}',
     "documents.0.title"),
    ("POST", "/documents", rb'{"documents": [{"id": "new", "text": "rocket", "path": "a/\udbff"}]}',
     "documents.0.path"),
    ("POST", "/documents/delete", rb'{"ids": ["space/space-000.txt", "\ud800"]}', "ids.1"),
    ("DELETE", "/documents", rb'{"ids": ["\ud800"]}', "ids.0"),
]


@pytest.mark.parametrize("method, path, raw, field", UNENCODABLE)
def test_unencodable_input_is_a_422_naming_the_field(server, method, path, raw, field):
    status, payload = server.request(method, path, raw=raw)
    assert status == 422, payload
    assert isinstance(payload, dict), payload  # JSON, not "Internal Server Error"
    assert payload["message"].startswith(field + ":"), payload
    if b"\\ud" in raw and field != "body":
        assert "lone surrogate" in payload["message"]
    if field in ("k", "radius"):
        assert "NaN or infinity" in payload["message"] or "valid integer" in payload["message"]
    assert all("input" not in e for e in payload["detail"])  # the bad input is never echoed
    assert server.get("/health") == (200, {"status": "ok", "documents": 90})  # nothing was added or removed


def test_non_finite_numbers_in_a_query_string_are_422(server):
    for value in ("1e400", "inf", "nan", "-inf"):
        status, payload = server.get(f"/documents/space/space-000.txt/similar?k={value}")
        assert status == 422 and payload["message"].startswith("query.k:"), payload


def test_deeply_nested_json_is_a_4xx(server):
    status, payload = server.request("POST", "/search", raw=b"[" * 50_000 + b"]" * 50_000)
    assert 400 <= status < 500 and isinstance(payload, dict), payload


JSON_KEYS = ["text", "texts", "k", "radius", "rerank", "lookup", "id", "ids", "format", "documents", "title",
             "path"]
# a valid body per endpoint, which the fuzzer then changes (so that many requests reach the index)
FUZZ_BASES = {
    ("POST", "/search"): {"text": "rocket launch"},
    ("POST", "/search/batch"): {"texts": ["rocket", "flour butter"]},
    ("POST", "/similar"): {"id": "space/space-001.txt"},
    ("POST", "/encode"): {"texts": ["rocket"]},
    ("POST", "/documents"): {"documents": [{"id": "fuzz/doc", "text": "rocket orbit"}]},
    ("POST", "/documents/delete"): {"ids": ["fuzz/doc"]},
    ("DELETE", "/documents"): {"ids": ["fuzz/doc"]},
}


def fuzz_requests():
    """``(method, path, body)``: a valid body with some fields replaced or added, or any JSON value,
    with lone surrogates, NaN, infinities and huge numbers among the values."""
    from hypothesis import strategies as st

    texts = st.text(alphabet=st.one_of(st.characters(), st.sampled_from(["\ud800", "\udbff", "\udc00", "\udfff"])),
                    max_size=30) | st.sampled_from(["rocket launch", "flour", " ", "", "space/space-001.txt"])
    numbers = st.integers(-2**70, 2**70) | st.floats(allow_nan=True, allow_infinity=True) | st.sampled_from(
        [0, 1, 10, 17, MAX_K, MAX_K + 1])
    scalars = st.none() | st.booleans() | numbers | texts
    values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                          | st.dictionaries(st.sampled_from(JSON_KEYS) | texts, inner, max_size=4), max_leaves=12)
    changes = st.dictionaries(st.sampled_from(JSON_KEYS) | texts, values, max_size=3)
    endpoint = st.sampled_from(sorted(FUZZ_BASES))
    changed = st.tuples(endpoint, changes).map(lambda ec: (*ec[0], {**FUZZ_BASES[ec[0]], **ec[1]}))
    anything = st.tuples(endpoint, values).map(lambda ev: (*ev[0], ev[1]))
    return changed | anything


@pytest.mark.slow
def test_fuzzed_json_bodies_never_get_a_5xx(writable_server):
    """Whatever JSON arrives (lone surrogates, NaN, huge numbers, wrong shapes), the answer is a
    JSON object with a status below 500."""
    from hypothesis import HealthCheck, given, settings

    srv = writable_server
    seen = set()

    @settings(max_examples=200, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
    @given(request=fuzz_requests())
    def check(request):
        method, path, body = request
        raw = json.dumps(body, allow_nan=True).encode("ascii")  # ensure_ascii: surrogates as \ud800 escapes
        status, payload = srv.request(method, path, raw=raw)
        assert status < 500, (method, path, raw, status, payload)
        assert isinstance(payload, dict) and ("message" in payload or status == 200), (method, path, raw, payload)
        seen.add(status)

    check()
    assert srv.get("/health")[0] == 200
    assert {200, 422} <= seen, seen  # the bodies reached validation, and past it


# --------------------------------------------------------------------------- limits, docs, HEAD


@pytest.fixture(scope="module")
def capped_server(small_index, tmp_path_factory):
    """A server that allows 50 hits per request (--max-hits 50)."""
    srv = start_server(small_index, tmp_path_factory.mktemp("capped"), max_hits=50)
    try:
        yield srv
    finally:
        srv.stop()


def test_hits_per_request_are_capped_by_max_hits(capped_server):
    srv = capped_server
    texts = ["rocket launch", "flour butter", "stock bond", "nasa orbit", "pasta sauce"]
    status, body = srv.post("/search/batch", {"texts": texts, "k": 10})  # 5 x 10 = 50: allowed
    assert status == 200 and [len(r["hits"]) for r in body["results"]] == [10] * 5
    status, payload = srv.post("/search/batch", {"texts": texts + ["moon"], "k": 10})
    assert status == 422, payload
    message = payload["message"]
    assert message.startswith("texts x k: 6 texts x k=10 asks for 60 hits") and "--max-hits" in message, message
    assert srv.post("/search", {"text": "rocket", "k": 50})[0] == 200
    for status, payload in (srv.post("/search", {"text": "rocket", "k": 51}),
                            srv.post("/similar", {"id": "space/space-000.txt", "k": 51}),
                            srv.get("/documents/space/space-000.txt/similar?k=51")):
        assert status == 422 and payload["message"].startswith("k: k=51 asks for 51 hits"), payload


def test_the_default_cap_refuses_the_huge_batch_at_once(server):
    """1,000 texts x k=10000 (10 million hits; it once took minutes and a gigabyte) is refused
    before any search; 10 x 10000 is exactly the default limit and is answered."""
    from semhash.server import DEFAULT_MAX_HITS

    assert DEFAULT_MAX_HITS == 10 * MAX_K
    texts = [f"rocket launch {i}" for i in range(1000)]
    status, payload = server.post("/search/batch", {"texts": texts, "k": MAX_K})
    assert status == 422 and "10,000,000 hits" in payload["message"], payload
    assert f"{DEFAULT_MAX_HITS:,}" in payload["message"]
    status, body = server.post("/search/batch", {"texts": texts[:10], "k": MAX_K})
    assert status == 200 and [len(r["hits"]) for r in body["results"]] == [90] * 10
    assert server.post("/search/batch", {"texts": texts[:11], "k": MAX_K})[0] == 422


def test_max_hits_is_checked_where_it_is_set(small_index, tmp_path):
    from click.testing import CliRunner

    from semhash.cli import cli
    from semhash.errors import ConfigError
    from semhash.server import DEFAULT_MAX_HITS, IndexService, create_app

    service = IndexService(small_index[0])
    for bad in (0, -5, 2.5, True):
        with pytest.raises(ConfigError, match="max_hits"):
            create_app(service, max_hits=bad)
    result = CliRunner().invoke(cli, ["serve", "--index", str(small_index[0]), "--max-hits", "0"])
    assert result.exit_code == 2 and "--max-hits" in result.output
    serve = next(c for c in cli.commands["serve"].params if c.name == "max_hits")
    assert serve.default == DEFAULT_MAX_HITS


def raw_request(server, method: str, path: str):
    """``(status, lower-cased headers, body bytes)`` of one request with no body."""
    conn = http.client.HTTPConnection(HOST, server.port, timeout=30)
    try:
        conn.request(method, path)
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    finally:
        conn.close()


def test_no_page_loads_assets_from_the_internet(server):
    """/docs and /redoc would load Swagger UI / ReDoc from a CDN (blank offline): they are gone;
    the OpenAPI description stays, and nothing the server answers is an HTML page."""
    for path in ("/docs", "/redoc", "/docs/oauth2-redirect"):
        status, payload = server.get(path)
        assert status == 404 and isinstance(payload, dict), (path, payload)
    assert server.get("/openapi.json")[0] == 200
    for path in ("/", "/docs", "/redoc", "/docs/oauth2-redirect", "/openapi.json", "/health", "/info"):
        status, headers, body = raw_request(server, "GET", path)
        assert headers["content-type"] == "application/json", (path, headers)
        assert b"<script" not in body and b"cdn." not in body, path


@pytest.mark.parametrize("path", ["/health", "/info", "/documents/space/space-000.txt/similar?k=3"])
def test_head_answers_like_get_without_a_body(server, path):
    status, headers, body = raw_request(server, "HEAD", path)
    assert status == 200 and body == b""
    with urllib.request.urlopen(server.base + path, timeout=30) as resp:
        got = resp.read()
    assert headers["content-type"] == "application/json"
    assert int(headers["content-length"]) == len(got)


def test_head_on_a_post_endpoint_is_405_and_on_an_unknown_id_404(server):
    assert raw_request(server, "HEAD", "/search")[0] == 405
    assert raw_request(server, "HEAD", "/documents/no/such/similar")[0] == 404


def test_serve_missing_index_is_a_clear_error(tmp_path):
    result = subprocess.run(
        [sys.executable, "-c", "from semhash.cli import main; main()", "serve", "--index", str(tmp_path / "none"),
         "--port", str(free_port())], capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert "Error: no index at" in result.stderr


# --------------------------------------------------------------------------- writes


NEW_DOCS = [
    {"id": "extra/volcano-1", "text": "Volcano notes\n\nrocket orbit nasa lava magma eruption"},
    {"id": "extra/volcano-2", "text": "lava flour butter", "title": "Lava cake", "path": "extra/cake.txt"},
]


def test_add_replace_and_delete(writable_server):
    srv = writable_server
    status, body = srv.post("/documents", {"documents": NEW_DOCS})
    assert status == 200, body
    assert body == {"added": 2, "replaced": 0, "skipped": [], "documents": 92}
    assert srv.get("/info")[1]["documents"] == 92
    hits = srv.post("/search", {"text": "rocket orbit nasa", "k": 100})[1]["hits"]
    new = {h["id"]: h for h in hits if h["id"].startswith("extra/")}
    assert new["extra/volcano-1"]["title"] == "Volcano notes"
    assert new["extra/volcano-1"]["path"] == "extra/volcano-1"
    # the new document is searchable by id too
    assert srv.get("/documents/extra/volcano-1/similar?k=3")[0] == 200
    # re-adding an id replaces it; a text with no known word is skipped
    status, body = srv.post("/documents", {"documents": [
        {"id": "extra/volcano-2", "text": "stock market bond"}, {"id": "extra/empty", "text": "zzzz qqqq"}]})
    assert status == 200, body
    assert body["added"] == 0 and body["replaced"] == 1 and body["documents"] == 92
    assert [s["path"] for s in body["skipped"]] == ["extra/empty"]
    status, body = srv.request("DELETE", "/documents", {"ids": ["extra/volcano-1"]})
    assert (status, body) == (200, {"removed": 1, "documents": 91})
    status, body = srv.post("/documents/delete", {"ids": ["extra/volcano-2"]})
    assert (status, body) == (200, {"removed": 1, "documents": 90})
    assert srv.post("/similar", {"id": "extra/volcano-1"})[0] == 404
    # the changes are on disk, in a valid index
    from semhash.index import open_index

    idx = open_index(srv.folder)
    try:
        assert len(idx.table) == 90 and idx.drift()["removed_since_training"] == 2
    finally:
        idx.close()


@pytest.mark.parametrize("body, field", [
    ({"documents": []}, "documents"),
    ({"documents": [{"id": "", "text": "rocket"}]}, "documents.0.id"),
    ({"documents": [{"id": "a", "text": ""}]}, "documents.0.text"),
    ({"documents": [{"id": "a"}]}, "documents.0.text"),
    ({"documents": [{"id": 5, "text": "rocket"}]}, "documents.0.id"),
    ({"documents": {"id": "a", "text": "rocket"}}, "documents"),
])
def test_bad_add_requests(server, body, field):
    status, payload = server.post("/documents", body)
    assert status == 422 and payload["message"].startswith(field), payload


@pytest.mark.slow
def test_change_by_another_process_is_picked_up(writable_server):
    from semhash.corpus import Document
    from semhash.index import update_index

    srv = writable_server
    update_index(srv.folder, lambda idx: idx.add([Document("outside", "outside", "Outside", "rocket nasa orbit")]))
    deadline = time.monotonic() + 20
    while srv.get("/health")[1]["documents"] != 91 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert srv.get("/health")[1]["documents"] == 91
    assert srv.post("/similar", {"id": "outside", "k": 2})[0] == 200


@pytest.mark.slow
def test_concurrent_searches_during_updates(writable_server):
    """8 clients search while another adds and removes documents: every answer is complete."""
    srv = writable_server
    before = srv.get("/health")[1]["documents"]
    extra = [{"id": f"extra/doc-{i}", "text": f"Extra {i}\n\nrocket orbit bake flour stock bond {i}"} for i in range(5)]
    after = before + len(extra)
    known = {h["id"] for h in srv.post("/search", {"text": "rocket flour stock", "k": MAX_K})[1]["hits"]}
    known |= {d["id"] for d in extra}
    queries = ["rocket launch orbit", "flour butter sugar", "stock market bond", "nasa payload", "pasta sauce"]
    n_clients, min_queries, max_queries, time_limit = 8, 250, 2000, 120.0
    deadline = time.monotonic() + time_limit
    writer_done = threading.Event()
    errors: list[str] = []
    counts_seen: set[int] = set()
    done = [0] * n_clients

    def reader(c: int) -> None:
        i = 0
        try:
            while i < max_queries and time.monotonic() < deadline:
                if i >= min_queries and writer_done.is_set():
                    break
                if i % 10 == 9:
                    status, body = srv.get("/info")
                    if status != 200:
                        errors.append(f"/info -> {status} {body}")
                        return
                    counts_seen.add(body["documents"])
                else:
                    status, body = srv.post("/search", {"text": queries[(c + i) % len(queries)], "k": 10})
                    if status != 200:
                        errors.append(f"/search -> {status} {body}")
                        return
                    check_hits(body["hits"], 16, known)
                    if len(body["hits"]) != 10:
                        errors.append(f"/search gave {len(body['hits'])} hits")
                i += 1
        except Exception as exc:
            errors.append(f"client {c}: {exc!r}")
        finally:
            done[c] = i

    writes: list[tuple] = []

    def writer() -> None:
        try:
            time.sleep(0.2)  # let the readers get going
            for _ in range(3):
                status, body = srv.post("/documents", {"documents": extra})
                writes.append(("add", status, body.get("documents") if isinstance(body, dict) else body))
                status, body = srv.request("DELETE", "/documents", {"ids": [d["id"] for d in extra]})
                writes.append(("delete", status, body.get("documents") if isinstance(body, dict) else body))
        except Exception as exc:
            errors.append(f"writer: {exc!r}")
        finally:
            writer_done.set()

    threads = [threading.Thread(target=reader, args=(c,)) for c in range(n_clients)] + [threading.Thread(target=writer)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=time_limit + 30)
    assert not any(t.is_alive() for t in threads)
    assert not errors, errors[:5]
    assert writes == [("add", 200, after), ("delete", 200, before)] * 3
    assert all(n >= min_queries for n in done), done
    assert counts_seen <= {before, after}, counts_seen
    assert srv.get("/health")[1]["documents"] == before
