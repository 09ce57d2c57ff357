"""Property: profiling any table (any mix of types, NULLs, NaN and infinities, huge and tiny
numbers, empty and long strings, odd column names) gives finite statistics in [-1, 1], or one
clear error; never a traceback."""

import math

import duckdb
import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tablegraph.tables.profile import profile_tables
from tablegraph.tables.sources import discover
from tablegraph.utils import TableGraphError

NUMBERS = st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True),
                    st.sampled_from([1e308, -1e308, 5e-324, 0.0, -0.0, 1e75, 1e76]))
INTEGERS = st.one_of(st.none(), st.integers(min_value=-2**63, max_value=2**63 - 1))
TEXTS = st.one_of(st.none(), st.text(max_size=30),
                  st.sampled_from(["", " ", "x" * 5000, "2150-01-01 08:00:00", "1e308",
                                   "NaN", "É\u0000", "a,b\n\"c\""]))
COLUMN = st.sampled_from([("DOUBLE", NUMBERS), ("BIGINT", INTEGERS), ("VARCHAR", TEXTS),
                          ("BOOLEAN", st.one_of(st.none(), st.booleans()))])
NAMES = st.text(min_size=1, max_size=12).filter(lambda s: "\x00" not in s)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(columns=st.lists(st.tuples(NAMES, COLUMN), min_size=1, max_size=5), rows=st.data())
def test_any_table_profiles_finite_or_fails_in_one_line(tmp_path_factory, columns, rows):
    path = tmp_path_factory.mktemp("prop") / "t.duckdb"
    names = [f"{name}_{i}" for i, (name, _) in enumerate(columns)]
    n = rows.draw(st.integers(min_value=0, max_value=12))
    values = [rows.draw(st.lists(strategy, min_size=n, max_size=n)) for _, (_, strategy) in columns]
    con = duckdb.connect(str(path))
    cols = ", ".join('"' + nm.replace('"', '""') + '" ' + t for nm, (_, (t, _)) in zip(names, columns))
    con.execute(f"CREATE TABLE t ({cols})")
    for r in range(n):
        con.execute(f"INSERT INTO t VALUES ({', '.join('?' * len(columns))})",
                    [v[r] for v in values])
    con.close()
    try:
        (p,) = profile_tables(discover(path), use_cache=False)
    except TableGraphError as e:
        assert "\n" not in str(e) and str(e)
        return
    assert p.n_rows == n and [c.name for c in p.columns] == names
    assert p.stats.shape == (len(columns), 128)
    assert np.isfinite(p.stats).all() and np.abs(p.stats).max() <= 1.0
    assert all(isinstance(v, str) and not (isinstance(v, float) and math.isnan(v))
               for c in p.columns for v in c.top_values)
