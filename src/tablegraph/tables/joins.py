"""The join graph of a database: which tables join, on which columns, how we know, how sure.

Edges come from three places, best first:

- **declared** foreign keys read from the catalog (SQLite, DuckDB, PostgreSQL; composite keys
  too): confidence 1.0;
- **name pattern**, inferred: a column `customer_id` (or `customerid`, `customer_fk`,
  `customerNumber`) of one table and a table named `customer`, `customers`, `dim_customer` or
  `customer_info`, joined on that table's single-column primary key, its `id`, or its own
  `customer_id` (where it declares no key: its column named for it, or the key the column's
  name ends with, that identifies its rows); less sure, and only between keys of one type, a
  role before the table's name (`start_station_id` -> `station`), a number after the key
  (`club_id_1`), the last word of the table's name (`company_id` -> `operate_company`) or a
  column named as the table (`economy.country` -> `country.code`); where no key is
  declared and the values bear it out, a role before another table's key
  (`routes.src_apid` -> `airports.apid`);
- **same key column**, inferred: a key-like column of the same name in two tables, where one
  side is that table's home (its primary key, or 99% distinct over the rows read) or the
  values of both overlap (bottom-k sketches from the profiles). Where several tables are its
  home, a table joins the one whose name shares most words with its own, and two homes that
  no table joins both are left apart (two code systems that share a column name).

Value sketches (a whole number kept as a float hashed as the integer) confirm or refute a
guess when both columns have rows: overlapping values raise
the confidence, disjoint ones drop the edge. Schema-only databases (no rows) keep the guesses
made from names, at lower confidence; where they declare no key either (a warehouse's DDL),
a table's key is the column named for it (`keys_by_name`: `book_language.language_id`,
`Country.Code`). Inferred edges are not added between tables that already
have a declared one.

Completing a set (`JoinGraph.connect`): the smallest tree over the join graph that holds every
chosen table (a Steiner tree, networkx's approximation), where an edge costs more when it is
less sure and a bridge table costs more when the question points away from it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from tablegraph.tables.records import ColumnProfile, TableProfile
from tablegraph.tables.stats import FEATURE_INDEX, type_family

DECLARED, INFERRED = "declared", "inferred"


@dataclass(frozen=True)
class Join:
    """left.left_columns = right.right_columns (pairwise), with where it came from."""

    left: str
    left_columns: tuple[str, ...]
    right: str
    right_columns: tuple[str, ...]
    source: str  # declared | inferred
    confidence: float
    reason: str  # foreign key | name pattern | same key column

    def conditions(self) -> list[str]:
        """["left.a = right.b", ...], one per column pair."""
        return [f"{self.left}.{a} = {self.right}.{b}"
                for a, b in zip(self.left_columns, self.right_columns)]

    def to_dict(self) -> dict:
        """The result record's join: columns as "table.column" (composite keys: one
        "table.(a, b)" each side), source and confidence."""
        def side(t: str, cols: tuple[str, ...]) -> str:
            return f"{t}.{cols[0]}" if len(cols) == 1 else f"{t}.({', '.join(cols)})"
        return {"left": side(self.left, self.left_columns),
                "right": side(self.right, self.right_columns),
                "source": self.source, "confidence": round(self.confidence, 3),
                "reason": self.reason}

    def to_json(self) -> dict:
        return {"left": self.left, "left_columns": list(self.left_columns),
                "right": self.right, "right_columns": list(self.right_columns),
                "source": self.source, "confidence": self.confidence, "reason": self.reason}

    @staticmethod
    def from_json(d: dict) -> "Join":
        return Join(d["left"], tuple(d["left_columns"]), d["right"], tuple(d["right_columns"]),
                    d["source"], float(d["confidence"]), d["reason"])


@dataclass
class JoinGraph:
    """Tables (nodes) and joins (edges, at most one per pair of tables: the surest), and the
    other joins found (`also`): a second join between the same two tables
    (`flights.origin_airport_id` and `flights.dest_airport_id` -> `airports`,
    `wedding.male_id` and `wedding.female_id` -> `people`) and a table's declared join to
    itself (`employees.manager_id` -> `employees.id`). Sets are completed over `joins`; what
    a query may join on is every join (`every`, `with_parallel`). In a catalogue of several
    databases, `databases` maps each table to its database ({} for one database): a query
    reads one database, so a set keeps to one (`same_database`)."""

    tables: list[str]
    joins: list[Join] = field(default_factory=list)
    also: list[Join] = field(default_factory=list)
    databases: dict[str, str] = field(default_factory=dict)

    def same_database(self, tables: list[str]) -> list[str]:
        """`tables` that are in the first one's database (all of them in one database)."""
        if not self.databases or not tables:
            return tables
        first = self.databases.get(tables[0])
        return [t for t in tables if self.databases.get(t) == first]

    def every(self) -> list[Join]:
        """`joins` and `also`, by pair of tables (the surest of a pair first)."""
        return sorted(self.joins + self.also,
                      key=lambda j: (min(j.left, j.right), max(j.left, j.right)))

    def with_parallel(self, used: list[Join]) -> list[Join]:
        """`used` (joins of this graph, one per pair of tables: a set's), each followed by
        the other joins between the same two tables (`also`): a query about flights from
        one airport to another reads `airports` once for each of the two columns."""
        out = []
        for j in used:
            out.append(j)
            out += [k for k in self.also if {k.left, k.right} == {j.left, j.right}]
        return out

    def between(self, a: str, b: str) -> Join | None:
        for j in self.joins:
            if {j.left, j.right} == {a, b}:
                return j
        return None

    def neighbours(self, table: str) -> list[str]:
        out = [j.right if j.left == table else j.left for j in self.joins
               if table in (j.left, j.right)]
        return sorted(set(out) - {table})

    def component(self, table: str) -> set[str]:
        """The tables that some path of joins reaches from `table`, `table` included."""
        import networkx as nx

        g = nx.Graph([(j.left, j.right) for j in self.joins])
        g.add_node(table)
        return set(nx.node_connected_component(g, table))

    def connect(self, terminals: list[str], weight: dict[str, float] | None = None,
                max_bridges: int = 2) -> tuple[list[str], list[Join]]:
        """The chosen tables plus the bridge tables that join them, and the joins used (the
        first table's joins first, then the next table's: the same order in every process).

        `weight`: table -> how strongly the question points at it, in [0, 1] (a bridge costs
        1 - weight); an edge costs 1.5 - confidence. Terminals that no path joins stay in the
        set, alone. Where the tree over all of them needs more than `max_bridges` bridge
        tables, the terminals are joined one by one in their order (the best table first)
        while the tree stays within `max_bridges`; the others stay in the set, alone.
        """
        import networkx as nx
        from networkx.algorithms.approximation import steiner_tree

        weight = weight or {}
        terms = list(dict.fromkeys(t for t in terminals if t in set(self.tables)))
        if len(terms) < 2:
            return terms, []
        g = nx.Graph()
        g.add_nodes_from(self.tables)
        for j in self.joins:
            node_cost = (2 - weight.get(j.left, 0.0) - weight.get(j.right, 0.0)) / 2
            g.add_edge(j.left, j.right, weight=1.5 - j.confidence + node_cost, join=j)
        tables: list[str] = []
        joins: list[Join] = []
        for comp in nx.connected_components(g):
            in_comp = [t for t in terms if t in comp]
            if len(in_comp) < 2:
                tables += in_comp
                continue
            sub = g.subgraph(comp)
            tree = steiner_tree(sub, in_comp, weight="weight")
            if sum(t not in terms for t in tree.nodes) > max_bridges:
                # too far apart: join what a tree within max_bridges can, best table first
                # (before, none of their joins was given: `payment`, `rental` and `country`
                # came apart because `country` is three tables away)
                linked, tree = [in_comp[0]], None
                for t in in_comp[1:]:
                    grown = steiner_tree(sub, linked + [t], weight="weight")
                    if sum(n not in terms for n in grown.nodes) <= max_bridges:
                        linked, tree = linked + [t], grown
            if tree is None:
                tables += in_comp
                continue
            bridges = [t for t in tree.nodes if t not in terms]
            tables += in_comp + sorted(bridges, key=lambda t: (-weight.get(t, 0.0), t))
            joins += [d["join"] for _, _, d in tree.edges(data=True)]
        order = {t: i for i, t in enumerate(terms)}
        tables.sort(key=lambda t: (order.get(t, len(order)), -weight.get(t, 0.0), t))
        # The tree's edges come in an order that follows the hash seed; list them from the
        # first table outward instead, the same in every process.
        pos = {t: i for i, t in enumerate(tables)}
        joins.sort(key=lambda j: (min(pos[j.left], pos[j.right]),
                                  max(pos[j.left], pos[j.right]), j.left, j.right))
        return tables, joins

    def renamed(self, rename: dict[str, str]) -> "JoinGraph":
        """The same graph with tables renamed (old name -> new name)."""
        def r(t: str) -> str:
            return rename.get(t, t)
        def joins(js: list[Join]) -> list[Join]:
            return [Join(r(j.left), j.left_columns, r(j.right), j.right_columns, j.source,
                         j.confidence, j.reason) for j in js]
        return JoinGraph([r(t) for t in self.tables], joins(self.joins), joins(self.also),
                         {r(t): d for t, d in self.databases.items()})

    def to_json(self) -> dict:
        return {"tables": self.tables, "joins": [j.to_json() for j in self.joins],
                "also": [j.to_json() for j in self.also],
                **({"databases": self.databases} if self.databases else {})}

    @staticmethod
    def from_json(d: dict) -> "JoinGraph":
        """From `to_json`; an index saved before `also` existed has none."""
        return JoinGraph(list(d["tables"]), [Join.from_json(j) for j in d["joins"]],
                         [Join.from_json(j) for j in d.get("also", [])],
                         {str(t): str(x) for t, x in d.get("databases", {}).items()})


# the last words that make a column a key (`_sk`: a surrogate key, only after an underscore)
_KEY_SUFFIXES = ("id", "fk", "key", "code", "no", "num")
_ID_SUFFIX = re.compile(rf"^(?P<stem>.+?)(_?({'|'.join(_KEY_SUFFIXES)})|_sk)$")
# `customerNumber`: a key only where a table bears its stem's name (a phone number is not)
_NUMBER_SUFFIX = re.compile(r"^(?P<stem>.+?)_?(nbr|number)$")
# the confidence of a join by name to a key that is itself read from names, where the table
# declares none (`recorded_by_staff_id` -> `staff.staff_id`, `order_provider_id` ->
# `provider.provider_id`): listed and used to connect a set, weighed little by the second
# stage, which pulled such a table into sets that do not read it (EHRSQL valid, set F1 0.944
# -> 0.940 at the confidence of other joins by name, 0.942 at 0.5, 0.944 at 0.3)
GUESSED_KEY = 0.3
# a text column whose values lie in another table's whatever their names (`_joins_by_text_
# values`): this many distinct values at least, and this share of them in the other's
TEXT_JOIN_VALUES = 3
TEXT_JOIN_SHARE = 0.9
# and of this many distinct values at most: a text key others name is a code or a name, not
# a dictionary's 100,000 titles (which the name rules join), and the values of every column
# are indexed once per database
TEXT_JOIN_MAX_VALUES = 20_000
# the confidence of a join read from values alone, as of a natural key's (`join_graph`):
# at 0.5 the second stage weighed these joins less than it does a natural key's, and fold
# 0's Spider databases without keys lost set F1 (0.908 -> 0.907); at 0.7 they gained (0.910)
SAME_VALUES = 0.7
# a key name and a number after it: `club_id_1`, `team_id2`
_COUNTED = re.compile(r"^(?P<head>.+?)_?[0-9]+$")


def _norm(name: str) -> str:
    """A table or column stem compared loosely: lower case, no separators, a plural's `s`
    dropped or its `ies` made `y` (`employees` -> "employee", `categories` -> "category");
    one form of the word, where `_forms` gives each form a plural may come from."""
    forms = _forms(name)
    return forms[1] if len(forms) > 1 else forms[0]


def _squash(text: str) -> str:
    """Lower case, letters and digits only: `Start_Station` -> "startstation"."""
    return re.sub(r"[^a-z0-9]", "", text.lower())


def _forms(name: str) -> list[str]:
    """The forms `name` may stand for, itself first: `employees` -> ["employees",
    "employee", "employe"]. A plural strips its `s` (`employees`, `types`), its `es`
    (`addresses`, `boxes`) or turns `ies` into `y`; a singular ending in `s` (`status`)
    stays whole, so two names match when their forms meet."""
    s = _squash(name.split(".")[-1])
    out = [s]
    if s.endswith("ies") and len(s) > 5:
        out.append(s[:-3] + "y")
    elif s.endswith("s") and not s.endswith("ss") and len(s) > 3:
        out.append(s[:-1])
        if s.endswith("es") and len(s) > 4:
            out.append(s[:-2])
    return out


NEAR_UNIQUE = 0.99  # a column this distinct over the rows read identifies them
# but over fewer rows than this, a name says more: five sample rows of `results` may hold
# five drivers, and `drivers` is still where `driverId` is at home
FEW_ROWS = 30
# a database whose every table holds this many rows or fewer is a sample of one (Spider 2.0's
# five rows a table): two columns' sample values that do not meet say nothing of their join
SAMPLE_ROWS = 10


def _words(table: str) -> list[set[str]]:
    """The words of a table name, each as its forms: `d_icd_diagnoses` -> [{"d"}, {"icd"},
    {"diagnoses", "diagnose", "diagnos"}]."""
    return [set(_forms(w)) for w in re.split(r"[^a-z0-9]+", table.lower().split(".")[-1]) if w]


# the words that start a table name in warehouse and application schemas without naming
# what it holds: `dim_customer`, `tbl_orders`, `lkp_status`
_TABLE_PREFIX = re.compile(r"^(dim|fact|fct|tbl|tb|lkp|lookup|ref|stg)_(?=[a-z0-9])",
                           re.IGNORECASE)


_TABLE_SUFFIX = re.compile(r"(?<=[a-z0-9])_(dim|fact|fct)$", re.IGNORECASE)


def _unprefixed(table: str) -> str:
    """A table name without such a first word, or such a last one: `dim_customer` and
    `customer_dim` -> "customer"."""
    return _TABLE_SUFFIX.sub("", _TABLE_PREFIX.sub("", table.split(".")[-1]))


def _table_forms(table: str) -> list[str]:
    """The forms of a table's name, with and without a warehouse prefix."""
    return _forms(table) + _forms(_unprefixed(table))


def _last_word(table: str) -> str:
    """The last word of a table's name, squashed: `customer_address` -> "address"."""
    return _squash(_unprefixed(table).split("_")[-1])


def _abbreviates(short: str, last: str) -> bool:
    """`short` is the start of `last` (a table's `_last_word`) and not that word in one of
    its forms: "addr" of `customer_address`, not "type" of `document_types`."""
    return last.startswith(short) and short not in _forms(last)


def _shared_table_prefix(names: list[str]) -> str:
    """The first word (lower case, with its `_`) that most of a database's tables, three or
    more, begin with: an application's or a dataset's name (`wp_` of WordPress' `wp_posts`,
    `olist_` of `olist_orders`), which the keys naming those tables leave out (`post_id`);
    else ""."""
    firsts = [m.group(1) for n in names
              if (m := re.match(r"^([a-z0-9]+_)[a-z0-9]", n.split(".")[-1].lower()))]
    if not firsts:
        return ""
    first = max(set(firsts), key=firsts.count)
    return first if firsts.count(first) >= max(3, 0.6 * len(names)) else ""


def _shared_words(a: str, b: str) -> int:
    """How many words of table name `a` are words of `b`, in any of their forms."""
    wb = _words(b)
    return sum(any(w & v for v in wb) for w in _words(a))


def _type_kind(column: ColumnProfile) -> str:
    """integer | text | other: what a key's type must share with the key it references. A
    float column whose every number read is whole is an integer's (an id column of a CSV whose
    missing values made pandas write 3.0)."""
    family = type_family(column.dtype)
    filled = 1.0 - column.stats[FEATURE_INDEX["null_frac"]]  # the share counts the rows
    if family == "type_float" and column.n_distinct and \
            column.stats[FEATURE_INDEX["num_integer_share"]] >= filled - 1e-6:
        return "integer"
    return {"type_integer": "integer", "type_text": "text"}.get(family, "other")


def _key_named(column: str) -> bool:
    """Whether a lower-case column name reads as a key's: `employeeid`, `code`, `room_number`
    (`_stem`, a bare key suffix or a number's), not `ssn` or `name`."""
    return _stem(column) is not None or column in _KEY_SUFFIXES or \
        _NUMBER_SUFFIX.match(column) is not None


def _stem(column: str) -> str | None:
    """`customer_id` -> "customer"; None for a column that does not name another table."""
    m = _ID_SUFFIX.match(column.lower())
    if not m or not m.group("stem").strip("_"):
        return None
    return _squash(m.group("stem"))


# a short first word that every column of a table shares, standing for the table (TPC-H's
# `o_custkey` in `orders`, TPC-DS's `ss_customer_sk` in `store_sales`)
_COLUMN_PREFIX = re.compile(r"^([a-z]{1,3}_)[a-z0-9]")


def column_prefix(profile: TableProfile) -> str:
    """The prefix (lower case) that every column of a table of three or more (all but one of
    five or more) begins with, where it is one to three letters and an underscore and its
    letters come in order from the table's name, the first first (`ps_` of `partsupp`, `cd_`
    of `customer_demographics`; not `icd_` of `d_icd_procedures`); else ""."""
    cols = [c.name.lower() for c in profile.columns]
    found = [m.group(1) if (m := _COLUMN_PREFIX.match(c)) else "" for c in cols]
    first = max(set(found), key=found.count, default="")
    table = _unprefixed(profile.name).lower()
    if not first or len(cols) < 3 or found.count(first) < len(cols) - (len(cols) >= 5):
        return ""
    letters = iter(table)
    if not table.startswith(first[0]) or not all(ch in letters for ch in first[:-1]):
        return ""
    return first


def identifies(profile: TableProfile, columns: tuple[str, ...]) -> bool:
    """`columns` identify the rows of `profile`: its primary key, a column pair unique over
    the rows read (`TableProfile.unique_keys`), or one column (nearly) unique over them;
    nearly, because a code with a version column beside it (`icd_code`, `icd_version`)
    repeats across versions now and then. Names match case-insensitively."""
    wanted = [c.lower() for c in columns]
    if [k.lower() for k in profile.primary_key] == wanted:
        return True
    if any(sorted(c.lower() for c in k) == sorted(wanted) for k in profile.unique_keys):
        return True
    if len(wanted) != 1 or profile.n_sampled <= 1:
        return False
    c = next((c for c in profile.columns if c.name.lower() == wanted[0]), None)
    return c is not None and c.n_distinct >= NEAR_UNIQUE * profile.n_sampled


def _without_prefix(name: str, prefix: str) -> str:
    """`name`, as it is written, without a column prefix (`column_prefix`, lower case)."""
    return name[len(prefix):] if prefix and name.lower().startswith(prefix) else name


def keys_by_name(profile: TableProfile, prefix: str = "") -> set[str]:
    """The columns (lower case) that name `profile` by its key, for a table whose rows and
    key nobody can read (a schema without rows or constraints, as a warehouse's DDL gives
    it), `prefix` (`column_prefix`) left out of their names:

    - those whose stem is a form of the table's name (`Customers.CustomerID`);
    - where no column names another table's key (a table of pairs, `player_match.match_id`
      beside `player_id`, is keyed by neither), those whose stem is its last word, ends
      its name (four letters or more: `book_language.language_id` and `language_code`,
      `rootbeerbrand.BrandID`) or abbreviates its last word (`publishers.pub_id`; not
      `ProductCostHistory.ProductID`, whose first word is another table's);
    - else its one column named as a bare key (`Country.Code`)."""
    whole = set(_table_forms(profile.name))
    squashed = _squash(_unprefixed(profile.name))
    last_word = (_name_words(_unprefixed(profile.name)) or [""])[-1].lower()
    names = {c.name.lower(): _without_prefix(c.name.lower(), prefix) for c in profile.columns}
    stems = {c: _stem(n) for c, n in names.items()}
    out = {c for c, s in stems.items() if s is not None and s in whole}
    ends = {c for c, s in stems.items()
            if s is not None and (s in _forms(_last_word(profile.name))
                                  or len(s) >= 4 and squashed.endswith(s)
                                  or len(s) >= 2 and _abbreviates(s, last_word))}
    if ends and all(s is None or c in ends for c, s in stems.items()):
        out |= ends
    bare = [c for c, n in names.items() if n in _KEY_SUFFIXES]
    if not out and len(bare) == 1 and not any(stems.values()):
        out = set(bare)
    return out


def join_graph(profiles: list[TableProfile]) -> JoinGraph:
    """The join graph of these tables: declared foreign keys, then inferred joins; in a
    catalogue of several databases (`TableProfile.database`), each database's alone."""
    if len(databases := sorted({p.database for p in profiles})) > 1:
        parts = [join_graph([p for p in profiles if p.database == d]) for d in databases]
        return JoinGraph([p.name for p in profiles], [j for g in parts for j in g.joins],
                         [j for g in parts for j in g.also],
                         {p.name: p.database for p in profiles})
    names = [p.name for p in profiles]
    by_lower = {n.lower(): n for n in names}
    prof = {p.name: p for p in profiles}
    best: dict[frozenset[str], Join] = {}
    found: list[Join] = []  # every join proposed, in order (`JoinGraph.also`)

    def add(j: Join) -> None:
        found.append(j)
        if j.left == j.right:
            return
        key = frozenset((j.left, j.right))
        old = best.get(key)
        def rank(x: Join) -> tuple[bool, float]:
            return x.source == DECLARED, x.confidence
        if old is None or rank(j) > rank(old):
            best[key] = j

    for p in profiles:
        for fk in p.foreign_keys:
            other = by_lower.get(fk.table.lower())
            if other is None:
                continue
            ref = fk.ref_columns or tuple(prof[other].primary_key)
            if len(ref) != len(fk.columns):
                continue
            add(Join(p.name, fk.columns, other, tuple(ref), DECLARED, 1.0, "foreign key"))

    declared = {k for k, j in best.items() if j.source == DECLARED}
    cols = {p.name: {c.name.lower(): c for c in p.columns} for p in profiles}
    # a column's name without its table's prefix: `o_custkey` and `c_custkey` are one key,
    # where no foreign key is declared (a schema that declares some has said what joins)
    undeclared = not any(p.foreign_keys for p in profiles)
    prefixes = {p.name: column_prefix(p) if undeclared else "" for p in profiles}
    # where no table declares a key and a table has no rows to read, its key is read from
    # names (`keys_by_name`); where some tables declare one, a table that declares none is
    # keyless on purpose (`ratings_users.user_id` repeats), and rows tell where there are any
    unkeyed = not any(p.primary_key for p in profiles)
    sampled = all(p.n_rows <= SAMPLE_ROWS for p in profiles)  # disjoint values prove nothing
    by_name = {p.name: keys_by_name(p, prefixes[p.name]) if unkeyed and p.n_sampled <= 1
               else set() for p in profiles}

    def keyed(t: str, columns: tuple[str, ...]) -> bool:
        """`columns` identify table `t`'s rows (`identifies`), or name its key where
        nothing else can tell (`keys_by_name`)."""
        return identifies(prof[t], columns) or \
            len(columns) == 1 and columns[0].lower() in by_name[t]

    def unprefixed(t: str, name: str) -> str:
        """`name`, as it is written, without table `t`'s column prefix."""
        return _without_prefix(name, prefixes[t])

    def bare(t: str, name: str) -> str:
        """`name` in lower case without table `t`'s column prefix."""
        return unprefixed(t, name).lower()
    shared = _shared_table_prefix(names)
    forms_of = {n: _table_forms(n) + (_table_forms(n.split(".")[-1][len(shared):])
                                      if shared and n.split(".")[-1].lower().startswith(shared)
                                      else []) for n in names}
    table_stems: dict[str, list[str]] = {}  # every form of each table's name
    for n in names:
        for f in dict.fromkeys(forms_of[n]):
            table_stems.setdefault(f, []).append(n)

    def evidence(a_table: str, a_col: str, b_table: str, b_col: str) -> float | None:
        """+1 overlapping values, -1 disjoint values, 0 no rows to tell; None: not key-like."""
        ca, cb = cols[a_table].get(a_col.lower()), cols[b_table].get(b_col.lower())
        if ca is None or cb is None:
            return None
        meet = _sketches_meet(ca, cb)
        if meet is None or not meet and sampled:
            return 0.0  # no rows, or samples that need not meet
        return 1.0 if meet else -1.0

    def target_column(t: str, col: ColumnProfile, named_key: bool = False,
                      guess: bool = True) -> str | None:
        """The column of table `t` that column `col` (of another table) refers to, or None."""
        name = col.name
        pk = prof[t].primary_key
        if len(pk) == 1:
            return pk[0]
        for cand in ("id", name.lower()):
            if cand in cols[t]:
                return cols[t][cand].name
        if prefixes[t] or named_key or guess and not pk:  # the key named for its table or
            # its last word: `date_dim.d_date_sk`, `customer_address.ca_address_sk`,
            # `airport.airport_code`, and `staff.staff_id` where no key is declared
            for low, c in cols[t].items():
                if _stem(bare(t, low)) in named_by[t] and keyed(t, (c.name,)):
                    return c.name
        if len(by_name[t]) == 1:  # the one key its name gives, where nothing else tells:
            return cols[t][next(iter(by_name[t]))].name  # `City.CountryCode` -> `Country.Code`
        if guess and not pk:  # the key the column's name ends with, a role before it:
            # `recorded_by_staff_id` -> `staff.staff_id` (`third_party_companies.company_id`)
            words = _key_words(unprefixed(t, name))
            for low, c in cols[t].items():
                key = _key_words(unprefixed(t, c.name))
                if _stem(low) is not None and key and len(key) < len(words) and \
                        words[-len(key):] == key and keyed(t, (c.name,)):
                    return c.name
            # else its one column named as a key that identifies its rows, where `col`'s
            # values lie among its values: `Undergoes.Physician` -> `Physician.EmployeeID`,
            # `Products.Manufacturer` -> `Manufacturers.Code` (of two, neither: no guess;
            # `Stay.Patient` is no `Patient.InsuranceID`, whose numbers are not the same)
            keys = [c for low, c in cols[t].items() if _key_named(bare(t, low))
                    and keyed(t, (c.name,))]
            if len(keys) == 1 and _values_within(col, keys[0]):
                return keys[0].name
        return None

    normed = {n: _norm(n) for n in names}  # once, not once per column
    lasts = {n: _last_word(n) for n in names}
    # the stems a key named for a table may have: its name's forms and its last word's
    named_by = {n: set(forms_of[n]) | set(_forms(lasts[n])) for n in names}
    for p in profiles:
        for c in p.columns:
            name = bare(p.name, c.name)
            stem = _stem(name)
            # a key counted off by a number: `club_id_1`, `club_id_2` of a match's two clubs
            counted = False
            if stem is None and (m := _COUNTED.match(name)) and \
                    (head := _stem(m["head"])) is not None:
                stem, counted = head, True
            numbered = None if stem is not None else _NUMBER_SUFFIX.match(name)
            number = numbered is not None
            whole = stem is None and not number  # a column named as a table: `economy.country`
            if number:
                stem = _squash(numbered["stem"])
            elif whole:
                stem = _squash(name)
                if len(_forms(stem)) > 1:
                    continue  # a plural (`langs.words`) counts things more often than it keys
            if not stem:
                continue
            forms = _forms(stem)
            if (set(forms) & set(forms_of[p.name]) or prefixes[p.name] and len(stem) >= 4
                    and normed[p.name].startswith(_norm(stem))) and keyed(p.name, (c.name,)):
                continue  # its own key (`sales.orders.order_id`, `customer.c_custkey`), not
                # one of `orders.id` or `customer_address.ca_address_sk`
            targets = list(dict.fromkeys(t for f in forms for t in table_stems.get(f, [])))
            weak = whole or number or counted  # a guess that the column's type must bear out
            if not targets and not whole:  # a role before the table: `start_station_id`
                targets = list(dict.fromkeys(
                    t for f, ts in table_stems.items() if len(f) >= 4 and stem != f
                    and stem.endswith(f) for t in ts))
                weak = weak or bool(targets)
            role = False  # a role before the table's name, no key suffix: `from_airport`
            # for `airport.airport_code`, `host_city`, `AssistingNurse`; only where their
            # values meet
            words = [w.lower() for w in _name_words(unprefixed(p.name, c.name))]
            if not targets and whole and len(words) >= 2:
                for last in ("".join(words[-2:]), words[-1]):
                    targets = [t for t in table_stems.get(last, []) if len(last) >= 4]
                    if targets:
                        role = True
                        break
            loose = not targets and not weak and len(stem) >= 4  # a table named `stem` and more
            if loose:
                s = _norm(stem)
                targets = [n for n in names if normed[n].startswith(s)]
            short = re.split(r"[^a-z0-9]+", name)[-2] if stem and not whole and not number \
                and "_" in name else ""
            abbreviated = not targets and len(short) >= 4  # `current_addr_sk`
            if abbreviated:
                targets = [n for n in names if n != p.name and _abbreviates(short, lasts[n])]
                weak = weak or bool(targets)
            # the last word of a table's name: `company_id` -> `operate_company`
            # (not between tables that both end so, `address_status` and `order_status`, nor
            # to a column of the same name: the same-key-column rule's)
            last_word = not targets and not whole and len(stem) >= 4 and \
                lasts[p.name] not in forms
            if last_word:
                targets = [n for n in names if n != p.name and lasts[n] in forms
                           and c.name.lower() not in cols[n]]
                weak = weak or bool(targets)
            for t in targets:
                if t == p.name or frozenset((p.name, t)) in declared:
                    continue
                # (not for a table found by a word that only begins its name: "part" is no
                # short form of `parties`, where no key declared says so)
                tc = target_column(t, c, named_key=role, guess=not (abbreviated or loose))
                if tc is None or (whole and c.name.lower() in cols[t]):
                    continue  # the same name on both sides is the same-key-column rule's
                if (abbreviated or last_word) and not keyed(t, (tc,)):
                    continue  # "title" of `titleauthor.title_id`: a word, not its key
                if weak and _type_kind(c) != _type_kind(cols[t][tc.lower()]):
                    continue
                if loose and not _refers_to(_key_words(unprefixed(p.name, c.name)),
                                            _key_words(unprefixed(t, tc))):
                    continue  # `order_id` is not `order_items.order_item_id`
                ev = evidence(p.name, c.name, t, tc)
                if role:  # only on values: this column's in the key's, which identifies rows
                    ev = 1.0 if keyed(t, (tc,)) and _values_within(
                        c, cols[t][tc.lower()]) else None
                if ev is None or ev < 0:
                    continue
                conf = (0.9 if ev > 0 else 0.7) - (0.1 if weak else 0.0)
                if not prof[t].primary_key and tc.lower() not in ("id", c.name.lower()) \
                        and not prefixes[t] and not role:
                    conf = min(conf, GUESSED_KEY)  # the key it references is a guess too
                add(Join(p.name, (c.name,), t, (tc,), INFERRED, conf, "name pattern"))

    fk_cols = {p.name: {c.lower() for k in p.foreign_keys for c in k.columns} for p in profiles}

    def closest(a: str, homes: list[str]) -> list[str]:
        """The homes whose names share the most words with `a`'s (all of them on a tie):
        `diagnoses_icd.icd_code` belongs to `d_icd_diagnoses`, not `d_icd_procedures`."""
        share = {h: _shared_words(a, h) for h in homes}
        best = max(share.values(), default=0)
        return [h for h in homes if share[h] == best]

    owners: dict[str, dict[str, str]] = {}  # bare name -> {table: its column of that name}
    for p in profiles:
        for c in p.columns:
            if _stem(b := bare(p.name, c.name)) is not None or c.key_sketch:
                owners.setdefault(b, {}).setdefault(p.name, c.name.lower())
    for key, named in owners.items():
        tabs = list(named)
        if key == "id" or len(tabs) < 2:
            continue
        homes = [t for t in tabs if keyed(t, (named[t],))]
        # where the key is named for one of them (`drivers` for `driverId`), not those
        # where it only identifies a few rows (`FEW_ROWS`), as a sample's five may by chance
        if (stem := _stem(key)) is not None and any(stem in named_by[t] for t in homes):
            homes = [t for t in homes if stem in named_by[t]
                     or [k.lower() for k in prof[t].primary_key] == [named[t]]
                     or prof[t].n_sampled >= FEW_ROWS]
        if homes:  # a star: every other table joins the table(s) the column identifies
            near = {a: homes if a in homes else closest(a, homes) for a in tabs}
            pairs = [(a, h) for h in homes for a in tabs if a != h and h in near[a]]
            # the tables that join each home; two homes whose users differ entirely are two
            # code systems that share a column name (ICD diagnoses and procedures)
            users = {h: {a for a in tabs if a not in homes and h in near[a]} for h in homes}
        elif len(tabs) <= 4:  # no table it identifies: each pair, on overlapping values
            pairs = [(a, b) for i, a in enumerate(tabs) for b in tabs[i + 1:]]
        else:
            continue
        for a, b in pairs:
            if frozenset((a, b)) in declared or (named[a] in fk_cols[a]
                                                 and named[b] in fk_cols[b]):
                continue  # declared, or both sides already point somewhere declared
            ev = evidence(a, named[a], b, named[b])
            if ev is None or ev < 0 or (ev == 0 and not homes):
                continue
            if b in homes and a in homes:
                if ev == 0 and users[a] and users[b] and not users[a] & users[b]:
                    continue  # no values to compare, and nothing joins both
                conf = 0.6 if ev > 0 else 0.5  # both unique: one-to-one, or a coincidence
            else:
                conf = 0.8 if ev > 0 and b in homes else 0.6 if ev >= 0 and b in homes else 0.5
            left, right = _completed_key(prof[b], named[b], cols[a][named[a]], cols[a],
                                         cols[b])
            add(Join(a, left, b, right, INFERRED, conf, "same key column"))
    # natural keys: a text column named in two words or more that several tables share
    # (`state_name`), joined to a table it identifies where the other's values lie in it;
    # of several such tables, the ones its name names (`state`, not `highlow`): a star
    texts: dict[str, dict[str, ColumnProfile]] = {}
    for p in profiles:
        for c in p.columns:
            b = bare(p.name, c.name)
            if c.lexicon and b not in owners and len(_name_words(c.name)) >= 2:
                texts.setdefault(b, {})[p.name] = c
    for key, named in texts.items():
        homes = [t for t, c in named.items() if keyed(t, (c.name,))]
        words = {_squash(w) for w in _name_words(key)}
        homes = [h for h in homes if words & set(forms_of[h])] or homes
        for h in homes:
            for a, c in named.items():
                if a not in homes and frozenset((a, h)) not in best and \
                        _contained(c, named[h]):
                    add(Join(a, (c.name,), h, (named[h].name,), INFERRED, SAME_VALUES,
                             "same values"))
    if undeclared:
        for j in _joins_by_text_values(profiles):
            add(j)
        # a role before another table's key, no table named: `routes.src_apid` ->
        # `airports.apid`, `trust.source_u_id` -> `useracct.u_id`; where no key is declared,
        # only on values, and only for a column no other rule joined
        joined = {(j.left, c.lower()) for j in found for c in j.left_columns}
        keys = [(t, low, c) for t in names for low, c in cols[t].items()
                if _stem(low) is not None and keyed(t, (c.name,))]
        for p in profiles:
            for low, c in cols[p.name].items():
                if (p.name, low) in joined or _stem(low) is None:
                    continue
                fits = [(t, h) for t, k, h in keys if t != p.name and low.endswith("_" + k)
                        and _values_within(c, h)]
                if len(fits) == 1:  # one table so keyed, on one column
                    (t, h), = fits
                    add(Join(p.name, (c.name,), t, (h.name,), INFERRED, SAME_VALUES,
                             "name pattern"))
    return JoinGraph(names, sorted(best.values(), key=lambda j: (j.left, j.right)),
                     _also(found, best))


def _joins_by_text_values(profiles: list[TableProfile]) -> list[Join]:
    """Joins of a text column to the text column of another table that identifies its rows
    and holds its values (`TEXT_JOIN_SHARE` of `TEXT_JOIN_VALUES` or more, a column of
    `TEXT_JOIN_MAX_VALUES` values at most), whatever their names say: GeoQuery's
    `river.traverse` and `border_info.border` -> `state.state_name`, `state.capital` ->
    `city.city_name`; only to one such column (of two that hold the values equally,
    neither)."""
    homes: dict[str, list[tuple[str, str]]] = {}  # value -> [(table, column)] identifying
    for p in profiles:
        for c in p.columns:
            if TEXT_JOIN_VALUES <= len(c.lexicon) <= TEXT_JOIN_MAX_VALUES and \
                    identifies(p, (c.name,)):
                for v in set(c.lexicon):
                    homes.setdefault(v, []).append((p.name, c.name))
    out = []
    for p in profiles:
        for c in p.columns:
            values = set(c.lexicon)
            if not TEXT_JOIN_VALUES <= len(values) <= TEXT_JOIN_MAX_VALUES / TEXT_JOIN_SHARE:
                continue
            hits: dict[tuple[str, str], int] = {}
            for v in values:
                for home in homes.get(v, ()):
                    if home[0] != p.name:
                        hits[home] = hits.get(home, 0) + 1
            best = max(hits.values(), default=0)
            found = [h for h, n in hits.items() if n == best]
            if best < TEXT_JOIN_SHARE * len(values) or len(found) != 1:
                continue
            (table, column), = found
            out.append(Join(p.name, (c.name,), table, (column,), INFERRED,
                            SAME_VALUES, "same values"))
    return out


def _also(found: list[Join], best: dict[frozenset[str], Join]) -> list[Join]:
    """The joins of `found` that `best` (one per pair of tables) leaves out and a query may
    still join on: declared ones (a second foreign key to the same table, a table's key to
    itself) and inferred ones on other columns between two tables that declare no join,
    each once (either direction), in the order found."""
    def key(j: Join) -> frozenset:
        return frozenset([(j.left, tuple(c.lower() for c in j.left_columns)),
                          (j.right, tuple(c.lower() for c in j.right_columns))])
    declared = {k for k, j in best.items() if j.source == DECLARED}
    seen = {key(j) for j in best.values()}
    out = []
    for j in found:
        pair = frozenset((j.left, j.right))
        if key(j) in seen or j.source != DECLARED and (j.left == j.right or pair in declared):
            continue
        seen.add(key(j))
        out.append(j)
    return out


def _key_words(column: str) -> list[str]:
    """The words of a key column's name before its key suffix, in lower case:
    `Order_Item_ID` -> ["order", "item"], `SalesOrderDetailID` -> ["sales", "order",
    "detail"], `id` -> [], `salesorderid` -> ["salesorder"] (one word: no case to tell)."""
    words = [w.lower() for w in _name_words(column)]
    if words and words[-1] in (*_KEY_SUFFIXES, "sk"):
        return words[:-1]
    if words and (stem := _ID_SUFFIX.match(words[-1])):
        return words[:-1] + [stem["stem"]]
    return words


def _refers_to(column: list[str], key: list[str]) -> bool:
    """Whether a column whose name says `column` (`_key_words`) may refer to a key whose
    name says `key`: a key of no words (`id`), the same words or the last of the column's
    (a role before them: `manager_staff_id` -> `staff_id`, `ship_to_address_id` ->
    `address_id`), or words of which one begins another (`cust_id` -> `customer_id`). Not a
    key that says more than the column (`order_id` -> `order_item_id`, `engineer_id` ->
    `engineer_visit_id`: the key of the column's details), nor one that says something else
    (`order_id` -> `status_id`)."""
    if not key or column[-len(key):] == key:
        return True
    if len(key) > len(column) and key[:len(column)] == column:
        return False
    return any(a.startswith(b) or b.startswith(a) for a in column for b in key)


def _name_words(name: str) -> list[str]:
    """The words of a column's name: `state_name`, `StateName` -> two words."""
    return re.findall(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|[0-9]+", name)


def _contained(a: ColumnProfile, b: ColumnProfile, share: float = 0.9) -> bool:
    """Whether column `a`'s values (its lexicon: `tables.profile.LEXICON_SIZE` at most) lie in
    column `b`'s, `share` of them at least, with two values or more to tell: text codes
    (`flight.from_airport` in `airport.airport_code`), which carry no key sketch."""
    mine = set(a.lexicon)
    return len(mine) >= 2 and len(mine & set(b.lexicon)) >= share * len(mine)


def _sketches_meet(a: ColumnProfile, b: ColumnProfile) -> bool | None:
    """Whether the two columns' key sketches share a value; None where either has none."""
    if a.key_sketch and b.key_sketch:
        return bool(set(a.key_sketch) & set(b.key_sketch))
    return None


def _values_within(a: ColumnProfile, b: ColumnProfile) -> bool:
    """Whether what is known of column `a`'s values fits column `b`'s (a key `a` may refer
    to): their key sketches meet, `a`'s text values lie in `b`'s (`_contained`), or `a`'s
    numbers lie between `b`'s least and greatest; False where nothing tells."""
    if (meet := _sketches_meet(a, b)) is not None:
        return meet
    if a.lexicon and b.lexicon:
        return _contained(a, b)
    kind = _type_kind(a)
    if kind == "integer" and kind == _type_kind(b) and a.n_distinct and b.n_distinct:
        lo, hi = FEATURE_INDEX["num_min"], FEATURE_INDEX["num_max"]
        return bool(a.stats[lo] >= b.stats[lo] - 1e-6 and a.stats[hi] <= b.stats[hi] + 1e-6)
    return False


def _completed_key(home: TableProfile, col: str, a_col, a_cols: dict, b_cols: dict
                   ) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The columns of a same-key-column join from `a_col` towards `home` on its `col` (lower
    case): `col` alone, or `col` and its partner when `home`'s rows are identified by the
    pair and not by `col` alone (`icd_code` repeats across ICD-9 and ICD-10: the join is on
    `icd_code` and `icd_version`), where the other table has the partner too."""
    b_name = b_cols[col].name
    if [k.lower() for k in home.primary_key] != [col]:
        for key in home.unique_keys:
            if key[0].lower() == col and key[1].lower() in a_cols:
                partner = key[1].lower()
                return (a_col.name, a_cols[partner].name), (b_name, b_cols[partner].name)
    return (a_col.name,), (b_name,)
