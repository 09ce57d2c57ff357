"""Key columns shared between tables, found from the profiles alone."""

from __future__ import annotations

from tablegraph.tables.profile import TableProfile


def shared_keys(profiles: list[TableProfile]) -> dict[str, list[tuple[str, str]]]:
    """table -> [(column, other table)] for key-like columns of the same name whose value
    sketches (bottom-k hashes, `ColumnProfile.key_sketch`) overlap."""
    cols: dict[str, list[tuple[str, set[int]]]] = {}
    for p in profiles:
        for c in p.columns:
            if c.key_sketch:
                cols.setdefault(c.name, []).append((p.name, set(c.key_sketch)))
    out: dict[str, list[tuple[str, str]]] = {p.name: [] for p in profiles}
    for col, owners in cols.items():
        for i, (t1, s1) in enumerate(owners):
            for t2, s2 in owners[i + 1:]:
                if t1 != t2 and s1 & s2:
                    out[t1].append((col, t2))
                    out[t2].append((col, t1))
    return out
