"""Serving tablegraph to programs: one `SearchService` behind the HTTP API (`api`), the MCP
server (`mcp_server`) and the web page (`web/`)."""
