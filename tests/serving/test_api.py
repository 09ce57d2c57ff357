import json
import threading

from fastapi.testclient import TestClient

from tablegraph.serving.api import MAX_BODY, create_app
from tablegraph.serving.service import SearchService


def client(idx, **kw):
    return TestClient(create_app(SearchService.open(index=str(idx)), **kw))


def test_search_tables_describe_and_docs(indexed):
    idx, _, _ = indexed
    c = client(idx)
    h = c.get("/health").json()
    assert h["status"] == "ok" and h["tables"] == 3
    r = c.post("/search", json={"question": "heparin medication for every person", "k": 2})
    d = r.json()
    assert r.status_code == 200 and d["hits"][0]["table"] == "prescriptions"
    assert len(d["hits"]) == 2 and set(d) == {"question", "read_as", "hits", "set", "answerable",
                                              "confidence", "withheld"}
    assert [t["table"] for t in c.get("/tables").json()] == ["labevents", "patients",
                                                              "prescriptions"]
    desc = c.get("/tables/Prescriptions").json()
    assert desc["table"] == "prescriptions" and desc["columns"][1]["column"] == "drug"
    path = c.post("/join-path", json={"tables": ["labevents", "prescriptions"]}).json()
    assert set(path["tables"]) >= {"labevents", "prescriptions"}
    ctx = c.post("/sql-context", json={"question": "blood results"}).json()
    assert ctx["sql_context"].startswith('CREATE TABLE "labevents"')
    spec = c.get("/openapi.json").json()
    assert {"/search", "/tables/{name}", "/refresh", "/health"} <= set(spec["paths"])
    assert "/openapi.json" in c.get("/docs").text
    page = c.get("/")
    assert page.status_code == 200 and "/static/app.js" in page.text
    assert "cdn" not in page.text.lower() and "http" not in page.text.replace("http-equiv", "")
    assert c.get("/static/app.js").headers["content-type"].startswith("text/javascript")


def test_errors_are_json_lines(indexed):
    idx, _, _ = indexed
    c = client(idx)
    for body, status, text in [({"question": "x", "k": 0}, 422, "k"),
                               ({"question": "", "k": 3}, 422, "question"),
                               ({"k": 3}, 422, "question"),
                               ({"question": "x", "k": 51}, 422, "k")]:
        r = c.post("/search", json=body)
        assert r.status_code == status and text in r.json()["error"], r.json()
    r = c.get("/tables/nosuch")
    assert r.status_code == 404 and "no table 'nosuch'" in r.json()["error"]
    r = c.post("/search", content=b"{" + b" " * MAX_BODY + b"}",
               headers={"content-type": "application/json"})
    assert r.status_code == 413 and "bytes" in r.json()["error"]
    assert c.get("/static/../config.json").status_code == 404
    assert c.get("/nowhere").json() == {"error": "Not Found"}


def test_token_and_logs_without_question_text(indexed, caplog):
    idx, _, _ = indexed
    c = client(idx, token="s3cret-token")
    assert c.get("/health").status_code == 200  # public
    r = c.post("/search", json={"question": "a private question", "k": 1})
    assert r.status_code == 401 and "token" in r.json()["error"]
    caplog.set_level("INFO", logger="tablegraph.serve")
    r = c.post("/search", json={"question": "a private question", "k": 1},
               headers={"Authorization": "Bearer s3cret-token"})
    assert r.status_code == 200
    text = caplog.text
    assert "POST /search 200" in text and "private" not in text and "s3cret" not in text
    c2 = client(idx, log_questions=True)
    c2.post("/search", json={"question": "a logged question", "k": 1})
    assert "a logged question" in caplog.text


def test_refresh_swaps_atomically_while_searches_run(indexed):
    idx, tables, _ = indexed
    service = SearchService.open(index=str(idx))
    c = TestClient(create_app(service))
    old = {"labevents", "patients", "prescriptions"}
    (tables / "notes.csv").write_text("subject_id,note_text\n100,chest pain\n101,fever\n")
    new = old | {"notes"}
    answers, failures = [], []

    def searcher():
        for _ in range(40):
            r = c.post("/search", json={"question": "blood results", "k": 4})
            if r.status_code != 200:
                failures.append(r.text)
            else:
                answers.append({h["table"] for h in r.json()["hits"]})

    threads = [threading.Thread(target=searcher) for _ in range(4)]
    for t in threads:
        t.start()
    assert c.post("/refresh").status_code == 202
    for t in threads:
        t.join()
    while service.refresh_state.running:
        threading.Event().wait(0.05)
    assert not failures and service.refresh_state.error is None
    assert all(a <= old or (a <= new and len(a) == 4) for a in answers)  # never mixed
    assert c.get("/health").json()["tables"] == 4
    assert c.post("/search", json={"question": "chest pain notes", "k": 4}).status_code == 200
    assert json.loads(json.dumps(c.get("/refresh").json()))["report"]["added"] == ["notes"]


def test_a_refresh_of_an_index_reads_the_tables_given_again(indexed, tmp_path, monkeypatch):
    """serve --index IDX --tables SRC: a refresh re-reads SRC (a database URL given again with
    the password the index does not keep), as `index --update IDX --tables SRC` does."""
    import shutil

    import tablegraph.retrieval.indexes as indexes

    idx, tables, _ = indexed
    moved = tmp_path / "moved"
    shutil.copytree(tables, moved)
    (moved / "notes.csv").write_text("subject_id,note_text\n100,chest pain\n")
    seen = []
    real = indexes.update_index
    monkeypatch.setattr(indexes, "update_index",
                        lambda i, t=None, *a, **k: seen.append(t) or real(i, t, *a, **k))
    service = SearchService.open(index=str(idx), tables=str(moved))
    service.refresh(wait=True)
    assert service.refresh_state.error is None and seen == [str(moved)]
    assert service.refresh_state.report["added"] == ["notes"]


def test_serve_refuses_a_busy_port_in_one_line(indexed, tmp_path):
    import socket
    import subprocess
    import sys

    idx, _, _ = indexed
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        p = subprocess.run([sys.executable, "-m", "tablegraph", "serve", "--index", str(idx),
                            "--port", str(port)], capture_output=True, text=True, timeout=120)
    assert p.returncode == 2 and p.stderr.strip().startswith("error: cannot listen on")
    assert len(p.stderr.strip().splitlines()) == 1
    for command in (["serve", "--index", str(idx)], ["mcp", "--index", str(idx), "--http"]):
        p = subprocess.run([sys.executable, "-m", "tablegraph", *command, "--port", "99999"],
                           capture_output=True, text=True, timeout=120)
        assert (p.returncode, p.stderr.strip()) == (2, "error: --port must be 1-65535, not 99999")


def test_opening_the_service_builds_what_the_first_search_needs(indexed):
    """Schema linking's value index is built when the service opens, not on the first
    request (over dictionaries of 200,000 values it takes a second or two)."""
    idx, _, _ = indexed
    service = SearchService.open(index=str(idx))
    assert service.retriever.index._linker is not None
