"""The data layer: where tables come from (`sources`), what their columns hold (`stats`,
`profile`), which columns join (`keys`), and the questions asked about them (`questions`).

Reads through DuckDB; imports no torch. Nothing here imports a module outside `tables`,
`config` and `utils`.
"""
