"""The MCP server (`tablegraph mcp`), with the official `mcp` SDK: tools an LLM agent calls
before it writes SQL.

- `search_tables(question, k)`: the result record (ranked tables, matching columns and values,
  the set and its joins, answerable/confidence, and the set withheld when the abstention says
  nothing answers) as JSON text;
- `list_tables()`: every table with its number of columns and rows (and its comment);
- `describe_table(name)`: the describe record of one table (columns, types, keys, joins, rows,
  sample values);
- `join_path(tables)`: the bridge tables and join conditions that connect the tables given;
- `sql_context(question)`: what the agent needs to write the query: the set's CREATE TABLE
  statements with keys, sample values and the joins.

Over stdio (the default: what agents launch) or streamable HTTP (`--http`, bound to 127.0.0.1
unless told otherwise, with the same bearer-token option as the HTTP API). Everything the
server prints goes to stderr; stdout belongs to the protocol.
"""

from __future__ import annotations

import json

from mcp.server.mcpserver import MCPServer

from tablegraph.serving.service import SearchService
from tablegraph.utils import TableGraphError


def create_server(service: SearchService) -> MCPServer:
    server = MCPServer(
        "tablegraph",
        instructions="Find which tables of the database hold what a question asks about, "
                     "the joins between them, and their CREATE TABLE statements, before "
                     "writing SQL.")

    def answer(fn, *args) -> str:
        try:
            return json.dumps(fn(*args), indent=1)
        except TableGraphError as e:
            return json.dumps({"error": str(e).splitlines()[0]})

    @server.tool()
    def search_tables(question: str, k: int = 5) -> str:
        """Rank the database's tables for a natural-language question: each table with its
        score and the columns and values that match, plus the set of tables the question needs
        (with bridge tables and join conditions) and whether anything here answers it. When
        "answerable" is false the set is empty and "withheld" holds the set it would have
        been: check those tables before concluding that the database cannot answer.
        "read_as" is the question as read where a mistyped word was respelt or a sentence
        that only asks for tables was passed over. Pass the question itself ("which
        customers ordered in 2023?"), not a request about it: a request in words of its own
        ("for the analyst's task, locate ...") widens the set."""
        return answer(service.search, question, k)

    @server.tool()
    def list_tables() -> str:
        """Every table of the database: its name, how many columns and rows it has, and its
        comment where the catalog gives one (and its database, where several are served as
        one catalogue). For browsing the schema; to find tables for a question, use
        search_tables."""
        return answer(service.tables_list)

    @server.tool()
    def describe_table(name: str) -> str:
        """One table's columns (types, primary and foreign keys, sample values), row count and
        the joins it takes part in. The name matches in any case, and without its schema where
        only one schema has such a table."""
        return answer(service.describe, name)

    @server.tool()
    def join_path(tables: list[str]) -> str:
        """How to join the tables given: the bridge tables needed between them and each join
        condition (declared foreign key, or inferred with a confidence)."""
        return answer(service.join_path, tables)

    @server.tool()
    def sql_context(question: str) -> str:
        """Everything needed to write SQL for the question: CREATE TABLE statements of the
        tables it needs (columns, types, keys, sample values) and the join conditions. Pass
        the question itself, not a request about it."""
        try:
            return service.sql_context(question)["sql_context"]
        except TableGraphError as e:
            return f"-- error: {str(e).splitlines()[0]}\n"

    return server


def bearer_guard(app, token: str):
    """ASGI middleware: every HTTP request needs `Authorization: Bearer <token>`."""
    import hmac

    expected = f"Bearer {token}".encode()

    async def guarded(scope, receive, send):
        if scope["type"] == "http":
            got = dict(scope.get("headers") or []).get(b"authorization", b"")
            if not hmac.compare_digest(got, expected):
                body = b'{"error": "missing or wrong bearer token"}'
                await send({"type": "http.response.start", "status": 401,
                            "headers": [(b"content-type", b"application/json"),
                                        (b"content-length", str(len(body)).encode())]})
                await send({"type": "http.response.body", "body": body})
                return
        await app(scope, receive, send)

    return guarded
