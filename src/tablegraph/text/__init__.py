"""Text: identifiers in words (`words`) and frozen sentence encoders with a disk cache
(`encoders`). Imports nothing from the table, graph or model layers."""
