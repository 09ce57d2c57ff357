"""Schema pairs: pseudo-questions made from the tables themselves."""

from __future__ import annotations

from tablegraph.graphs.nodes import NodeKind, TableNodes
from tablegraph.tables.questions import Question

MAX_PAIR_VALUE_CHARS = 100


def schema_pairs(nodes: list[TableNodes], questions: list[Question],
                 values_per_column: int = 3) -> list[Question]:
    """Each column's name in words, and each column name with one of its first
    `values_per_column` value nodes, labelled with the column's table.

    Only tables that are gold for some of `questions` get pairs: pairs for a table without
    questions pull it towards its own column names and away from how people ask (README,
    benchmark d).
    """
    seen = {t for q in questions for t in q.tables}
    out = []
    for n in (n for n in nodes if n.table in seen):
        values: dict[int, list[str]] = {}
        for i in n.of_kind(NodeKind.VALUE):
            values.setdefault(n.owners[i], []).append(n.labels[i])
        for c in n.of_kind(NodeKind.COLUMN):
            words = n.texts[c]
            out.append(Question(words, (n.table,)))
            out += [Question(f"{words} {v[:MAX_PAIR_VALUE_CHARS]}", (n.table,))
                    for v in values.get(c, [])[:values_per_column]]
    return out
