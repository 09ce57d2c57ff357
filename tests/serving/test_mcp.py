import json
import sys
from pathlib import Path

import anyio
from mcp import Client
from mcp.client.stdio import StdioServerParameters


def test_mcp_server_over_stdio_with_the_sdk_client(indexed):
    idx, _, _ = indexed
    params = StdioServerParameters(command=sys.executable,
                                   args=["-m", "tablegraph", "mcp", "--index", str(idx)])

    async def session():
        async with Client(params) as client:
            tools = {t.name: t for t in (await client.list_tools()).tools}
            assert set(tools) == {"search_tables", "list_tables", "describe_table",
                                  "join_path", "sql_context"}
            assert "question" in tools["search_tables"].input_schema["properties"]

            async def call(name, args):
                result = await client.call_tool(name, args)
                assert not result.is_error, result
                return result.content[0].text

            found = json.loads(await call("search_tables",
                                          {"question": "heparin medication for every person",
                                           "k": 2}))
            assert found["hits"][0]["table"] == "prescriptions" and len(found["hits"]) == 2
            listed = json.loads(await call("list_tables", {}))
            assert [t["table"] for t in listed][:2] == ["labevents", "patients"]
            assert all(t["rows"] > 0 and t["columns"] > 0 for t in listed), listed
            described = json.loads(await call("describe_table", {"name": "labevents"}))
            assert described["table"] == "labevents" and described["columns"]
            path = json.loads(await call("join_path", {"tables": ["labevents", "patients"]}))
            assert set(path["tables"]) >= {"labevents", "patients"}
            sql = await call("sql_context", {"question": "blood results"})
            assert sql.startswith('CREATE TABLE "labevents"')
            missing = json.loads(await call("describe_table", {"name": "nosuch"}))
            assert "no table 'nosuch'" in missing["error"]

    anyio.run(session)
    assert Path(idx / "config.json").is_file()


def test_mcp_over_streamable_http_needs_the_token(indexed):
    import os
    import socket
    import subprocess
    import time

    import httpx
    import httpx2
    from mcp.client.streamable_http import streamable_http_client

    idx, _, _ = indexed
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "TABLEGRAPH_TOKEN": "tok-123"}
    proc = subprocess.Popen([sys.executable, "-m", "tablegraph", "mcp", "--index", str(idx),
                             "--http", "--port", str(port)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}/mcp"
    try:
        for _ in range(300):
            try:
                r = httpx.post(url, json={}, timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        assert r.status_code == 401 and "token" in r.json()["error"]

        async def session():
            http = httpx2.AsyncClient(headers={"Authorization": "Bearer tok-123"})
            async with Client(streamable_http_client(url, http_client=http)) as client:
                names = {t.name for t in (await client.list_tools()).tools}
                assert "search_tables" in names
                res = await client.call_tool("search_tables", {"question": "blood results"})
                assert json.loads(res.content[0].text)["hits"][0]["table"] == "labevents"

        anyio.run(session)
    finally:
        proc.terminate()
        out, err = proc.communicate(timeout=10)
    assert b"tok-123" not in out + err  # the token is never printed
