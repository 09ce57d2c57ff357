"""Copies of a database under other names: abbreviated as enterprise schemas name things
(`t_rf`, `amt`, `cust`), with the old names as comments, or as acronyms. The comments benchmark
ranks held-out databases in each copy (`benchmarks.comments`); pretraining fits the abstention
model on abbreviated copies too (`training.pretrain.fit_abstention`), so that a database whose
names say little is not taken for one that answers nothing.

- `as they are`: the names unchanged;
- `abbreviated`: every name abbreviated (`abbreviate`: each word to its first letter and the
  consonants after it, at most 4 letters: `order_items` -> `ordr_itms`);
- `abbreviated, commented`: abbreviated, with the old names in words as `COMMENT ON` text,
- `common abbreviations`: only the words that have an abbreviation in common use in database
  names take it (`COMMON_ABBREVIATIONS`: `amount` -> `amt`, `customer` -> `cust`,
  `department` -> `dept`), the others stay: `customer_payments` -> "cust_pmts",
- `acronyms`: a name of three to five words becomes their initials (`avg_house_value` ->
  "ahv", `SocialSecurityNumber` -> "ssn"), the others stay.

The copies declare no keys.
"""

from __future__ import annotations

import re
from pathlib import Path

VARIANTS = ("as they are", "abbreviated", "abbreviated, commented", "common abbreviations",
            "acronyms")

_VOWELS = set("aeiou")
# word -> the abbreviation database names commonly give it (data-warehouse naming conventions)
COMMON_ABBREVIATIONS = dict(pair.split() for pair in """
amount amt;number nbr;customer cust;account acct;address addr;description desc;department dept
manager mgr;product prod;transaction txn;payment pmt;balance bal;count cnt;percent pct
month mth;sales sls;service svc;warehouse whse;order ord;item itm;location loc;region rgn
country ctry;status stat;type typ;category cat;group grp;company co;vendor vndr
supplier supp;price prc;cost cst;revenue rev;total tot;source src;target tgt
destination dst;header hdr;detail dtl;last lst;first frst;start strt;created crtd
update updt;flag flg;previous prev;current curr;level lvl;hours hrs;salary sal
commission comm;gender gndr;physician phys;hospital hosp;message msg;user usr
password pwd;project proj;task tsk;student stdnt;course crs;instructor instr
enrollment enrl;grade grd;building bldg;floor flr;district dist;province prov
manufacturer mfr;model mdl;color clr;width wdth;frequency freq;shipment shpmt
delivery dlvry;receipt rcpt;return rtn;discount disc;promotion promo;channel chnl
brand brnd;territory terr;performance perf;score scr;rank rnk;available avail
quarter qtr;employee emp;professor prof;date dt;name nm;quantity qty;code cd
average avg;minimum min;maximum max;year yr;city cty;state st;phone ph;email eml
time tm;value val;identifier id;reference ref;document doc;invoice inv
organization org;position pos;percentage pct;population pop;director dir;member mbr
player plyr;team tm;match mtch;season ssn;game gm;award awrd;movie mv;author auth
book bk;title ttl;paper ppr;journal jrnl;conference conf;airport arpt;airline arln
flight flt;station stn;train trn;restaurant rest;review rvw;business bus;client clnt
contract cntrct;policy pol;claim clm;medicine med;patient pt;doctor dr
appointment appt;election elec;candidate cand;party pty;county cnty;school schl
teacher tchr;class cls;room rm;event evt;venue ven;ticket tkt;ship shp
shipping shpg;problem prob;information info;street str;telephone tel
registration reg;international intl;national natl;management mgmt""".strip().replace("\n", ";").split(";"))


def _name_words(name: str) -> list[str]:
    """A name's words, split at `_`, spaces and camelCase."""
    return [w for w in re.split(r"[_\s]+|(?<=[a-z])(?=[A-Z])", name) if w]


def acronym(name: str) -> str:
    """`avg_house_value` -> "ahv": a name of three to five words (`_name_words`, letters
    only) as their initials in lower case; any other name as it is."""
    words = _name_words(name)
    return "".join(w[0] for w in words).lower() \
        if 3 <= len(words) <= 5 and all(w.isalpha() for w in words) else name


def abbreviate(name: str, common: bool = False) -> str:
    """`order_items` -> "ordr_itms", `customerId` -> "cstm_id": each word (split at `_`,
    spaces and camelCase) to its first letter and the consonants after it, at most 4 letters;
    words of up to 3 letters stay. `common`: only the words of `COMMON_ABBREVIATIONS` (and
    their plurals) take theirs: `customer_payments` -> "cust_pmts", `unit_price` ->
    "unit_prc"."""
    words = _name_words(name)

    def short(w: str) -> str:
        w = w.lower()
        if common:
            plural = w.endswith("s") and w[:-1] in COMMON_ABBREVIATIONS
            return COMMON_ABBREVIATIONS[w[:-1]] + "s" if plural else \
                COMMON_ABBREVIATIONS.get(w, w)
        return w if len(w) <= 3 else (w[0] + "".join(c for c in w[1:] if c not in _VOWELS))[:4]

    return "_".join(short(w) for w in words) or name


def _unique(names: list[str], variant: str) -> dict[str, str]:
    """name -> its abbreviation as `variant` abbreviates (a digit added where two would
    meet), or itself."""
    out: dict[str, str] = {}
    seen: set[str] = set()
    for n in names:
        base = n if variant == VARIANTS[0] else acronym(n) if variant == VARIANTS[4] else \
            abbreviate(n, variant == VARIANTS[3])
        new, i = base, 2
        while new.lower() in seen:
            new, i = f"{base}{i}", i + 1
        seen.add(new.lower())
        out[n] = new
    return out


def copy_database(tables: str, out: Path, variant: str) -> dict[str, str]:
    """Copy every table of `tables` (a `--tables` argument) into the new DuckDB file `out`
    as `variant` (one of `VARIANTS`), rows as tablegraph reads them; returns old table name
    -> new."""
    from tablegraph.tables.sources import Reader, discover, quote_ident, quote_literal
    from tablegraph.text.words import name_to_words

    refs = discover(tables)
    names = _unique([r.name for r in refs], variant)
    with Reader(max_rows=10 ** 9) as reader:  # every row
        reader.con.execute(f"ATTACH {quote_literal(str(out))} AS copy")
        for ref in refs:
            rel, _ = reader.sample(ref)
            cols = [c for c, _ in reader.columns(rel)]
            new = _unique(cols, variant)
            table = f"copy.main.{quote_ident(names[ref.name])}"
            reader.con.execute(f"CREATE TABLE {table} AS SELECT " + ", ".join(
                f"{quote_ident(c)} AS {quote_ident(new[c])}" for c in cols) + f" FROM {rel}")
            if variant == VARIANTS[2]:
                words = name_to_words(ref.name, table=True)
                reader.con.execute(f"COMMENT ON TABLE {table} IS {quote_literal(words)}")
                for c in cols:
                    reader.con.execute(f"COMMENT ON COLUMN {table}.{quote_ident(new[c])} IS "
                                       f"{quote_literal(name_to_words(c))}")
            reader.drop(rel)
        reader.con.execute("DETACH copy")
    return names
