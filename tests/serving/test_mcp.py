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
            assert set(tools) == {"search_tables", "describe_table", "join_path",
                                  "sql_context"}
            assert "question" in tools["search_tables"].input_schema["properties"]

            async def call(name, args):
                result = await client.call_tool(name, args)
                assert not result.is_error, result
                return result.content[0].text

            found = json.loads(await call("search_tables",
                                          {"question": "heparin medication for every person",
                                           "k": 2}))
            assert found["hits"][0]["table"] == "prescriptions" and len(found["hits"]) == 2
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
