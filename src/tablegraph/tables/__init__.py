"""The data layer: where tables come from (`sources`), what their columns hold (`stats`,
`profile`, whose plain records are in `records`), declared keys (`catalog`), which tables join
(`joins`), what a reader of a schema needs (`schema`), and the questions asked about them
(`questions`).

Reads through DuckDB; imports no torch. Nothing here imports a module outside `tables`,
`config` and `utils`.
"""
