"""A schema given as SQL DDL (`--tables schema.sql`) reads as the database it declares: keys
added by ALTER TABLE, comments, the rows of INSERTs; PostgreSQL's, MySQL's and SQLite's
writing of it."""

import pytest

from tablegraph.tables.ddl import ddl_database
from tablegraph.tables.profile import profile_tables
from tablegraph.tables.records import ForeignKey
from tablegraph.tables.sources import database_file, discover
from tablegraph.utils import TableGraphError

PG_DUMP = """
SET statement_timeout = 0;
CREATE TABLE public.customers (
    id integer NOT NULL,
    full_name character varying(100),
    PRIMARY KEY (id)
);
CREATE TABLE public.t_ord (
    order_id bigint NOT NULL,
    cust integer,
    amt numeric(10,2),
    created_at timestamp without time zone DEFAULT now()
);
CREATE TABLE public.t_rf (rf_id bigint, ord bigint REFERENCES public.t_ord (order_id));
ALTER TABLE ONLY public.t_ord ADD CONSTRAINT t_ord_pkey PRIMARY KEY (order_id);
ALTER TABLE ONLY public.t_ord
    ADD CONSTRAINT t_ord_cust_fk FOREIGN KEY (cust) REFERENCES public.customers(id);
COMMENT ON TABLE public.t_ord IS 'Orders placed by customers';
COMMENT ON COLUMN public.t_ord.amt IS 'order amount in euros';
CREATE INDEX t_ord_cust ON public.t_ord USING btree (cust);
INSERT INTO public.customers VALUES (1, 'Ann Lee'), (2, 'Bo Chen');
"""

MYSQL_DUMP = """
CREATE TABLE `orders` (
  `order_id` int(11) NOT NULL AUTO_INCREMENT,
  `placed` datetime DEFAULT NULL,
  PRIMARY KEY (`order_id`)
) ENGINE=InnoDB;
CREATE TABLE `t_rf` (
  `id` int(11) NOT NULL AUTO_INCREMENT COMMENT 'refund id',
  `ord_id` int(11) DEFAULT NULL COMMENT 'the order refunded',
  PRIMARY KEY (`id`),
  KEY `ord` (`ord_id`),
  CONSTRAINT `fk1` FOREIGN KEY (`ord_id`) REFERENCES `orders` (`order_id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COMMENT='refunds';
"""

SQLITE_DUMP = """PRAGMA foreign_keys=OFF;
BEGIN TRANSACTION;
CREATE TABLE Activity (actid INTEGER PRIMARY KEY, activity_name varchar(25));
INSERT INTO Activity VALUES(770,'Mountain Climbing');
INSERT INTO Activity VALUES(771,'Canoeing');
CREATE TABLE Participates_in (stuid INTEGER, actid INTEGER,
  FOREIGN KEY(actid) REFERENCES Activity(actid));
COMMIT;
"""


def _profiles(tmp_path, text, name="schema.sql"):
    path = tmp_path / name
    path.write_text(text)
    return {p.name: p for p in profile_tables(discover(path), progress=False)}


def test_a_pg_dump_reads_with_altered_keys_comments_and_rows(tmp_path):
    p = _profiles(tmp_path, PG_DUMP)
    assert sorted(p) == ["customers", "t_ord", "t_rf"]  # schemas dropped, the index passed over
    assert p["t_ord"].primary_key == ["order_id"]
    assert p["t_ord"].foreign_keys == [ForeignKey(("cust",), "customers", ("id",))]
    assert p["t_rf"].foreign_keys == [ForeignKey(("ord",), "t_ord", ("order_id",))]
    assert p["t_ord"].comment == "Orders placed by customers"
    assert {c.name: c.comment for c in p["t_ord"].columns}["amt"] == "order amount in euros"
    assert {c.name: c.declared for c in p["t_ord"].columns} == {
        "order_id": "BIGINT", "cust": "INT", "amt": "DECIMAL(10, 2)", "created_at": "TIMESTAMP"}
    assert p["customers"].n_rows == 2 and p["t_ord"].n_rows == 0


def test_a_mysqldump_reads_with_its_inline_comments(tmp_path):
    p = _profiles(tmp_path, MYSQL_DUMP)
    assert p["t_rf"].primary_key == ["id"] and p["t_rf"].comment == "refunds"
    assert p["t_rf"].foreign_keys == [ForeignKey(("ord_id",), "orders", ("order_id",))]
    assert {c.name: c.comment for c in p["t_rf"].columns} == {
        "id": "refund id", "ord_id": "the order refunded"}


def test_a_dump_with_rows_is_parsed_once_in_its_own_dialect(tmp_path, monkeypatch):
    """mysqldump's LOCK TABLES and pg_dump's OWNER TO say nothing of the schema: the first
    dialect that reads everything else is taken, not every dialect tried on a file of rows
    (a 6 MB mysqldump took 110 s, parsed in all eight)."""
    import sqlglot

    from tablegraph.tables import ddl

    calls = []
    parse = sqlglot.parse
    monkeypatch.setattr(sqlglot, "parse", lambda text, read=None: calls.append(read) or
                        parse(text, read=read))
    mysql = MYSQL_DUMP + ("LOCK TABLES `orders` WRITE;\n"
                          "INSERT INTO `orders` VALUES (1,'2024-01-02 10:00:00'),(2,NULL);\n"
                          "UNLOCK TABLES;\n")
    p = _profiles(tmp_path, mysql, "shop.sql")
    assert calls == ["mysql"] and p["orders"].n_rows == 2
    calls.clear()
    _profiles(tmp_path, PG_DUMP + "ALTER TABLE public.t_rf OWNER TO shop;\n", "pg.sql")
    assert calls == ["postgres"]


def test_an_edited_schema_file_changes_the_fingerprints_of_the_tables_it_changed(tmp_path):
    """The database built from a `.sql` file lives in a cache folder named for its text, new
    for every edit: `index --update` must still see that only one table changed."""
    from tablegraph.retrieval.indexes import _fingerprints

    path = tmp_path / "shop.sql"
    path.write_text(MYSQL_DUMP + "INSERT INTO `orders` VALUES (1, NULL);\n")
    before = _fingerprints(discover(path))
    path.write_text(MYSQL_DUMP + "INSERT INTO `orders` VALUES (1, NULL), (2, NULL);\n")
    after = _fingerprints(discover(path))
    assert None not in before.values() and set(before) == {"orders", "t_rf"}
    assert after["t_rf"] == before["t_rf"] and after["orders"] != before["orders"]


MYSQLDUMP_ROWS = """-- MySQL dump 10.13  Distrib 8.0.36, for Linux (x86_64)
CREATE TABLE `t` (
  `id` int(11) NOT NULL,
  `s` varchar(50) DEFAULT NULL,
  `b` varbinary(8) DEFAULT NULL,
  `f` double DEFAULT NULL,
  PRIMARY KEY (`id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
LOCK TABLES `t` WRITE;
INSERT INTO `t` VALUES (9,'Bob',NULL,1.50),(2,'Fairfax, VA',NULL,-2e3),(3,'plain',NULL,.5);
INSERT INTO `t` VALUES (4,'it\\'s',0x1F2E,NULL),(5,'line\\nbreak',NULL,3),(6,'a,x',NULL,1);
INSERT INTO `t` VALUES (7,"double",NULL,18446744073709551616);
INSERT INTO `t` VALUES (1,'last',b'101',NULL);
UNLOCK TABLES;
"""


def test_mysqldump_rows_that_sqlite_reads_alike_skip_sqlglot(tmp_path, monkeypatch):
    """mysqldump's INSERT lines without a backslash escape or a hex, bit or binary value read
    the same in SQLite as in MySQL: they are run as written, in their place, and only the
    rest is parsed. The database is the same, row for row and type for type, as the one
    sqlglot writes from the same text without mysqldump's header line."""
    import sqlite3

    import sqlglot

    monkeypatch.setenv("TABLEGRAPH_CACHE", str(tmp_path / "cache"))  # built here, not found
    parsed = []
    parse = sqlglot.parse
    monkeypatch.setattr(sqlglot, "parse", lambda text, read=None: parsed.append(text) or
                        parse(text, read=read))

    def rows(text, name):
        (tmp_path / name).write_text(text)
        con = sqlite3.connect(ddl_database(str(tmp_path / name)))
        try:
            return con.execute("SELECT *, typeof(id), typeof(s), typeof(b), typeof(f) "
                               "FROM t").fetchall()
        finally:
            con.close()

    fast = rows(MYSQLDUMP_ROWS, "fast.sql")
    assert "Fairfax" not in parsed[0] and '"double"' not in parsed[0]  # run as written
    assert "it\\'s" in parsed[0] and "'last',b'101'" in parsed[0]  # an escape; a bit value
    assert [r[0] for r in fast] == [9, 2, 3, 4, 5, 6, 7, 1]  # in the file's order
    slow = rows(MYSQLDUMP_ROWS.split("\n", 1)[1], "slow.sql")
    assert fast == slow
    assert fast[3][2] == b"\x1f." and fast[4][1] == "line\nbreak" and fast[7][2] == 5


PG_DUMP_COPY = """--
-- PostgreSQL database dump
--

\\restrict FS3ZFWZEca9ouNvOrCDchAf0JvfIDIdeJJeazYiN6IOWhivbraBbrX

SET statement_timeout = 0;
SELECT pg_catalog.set_config('search_path', '', false);
CREATE TABLE public."Order Items" (
    id integer NOT NULL,
    note text,
    qty numeric(6,2)
);
ALTER TABLE public."Order Items" OWNER TO shop;
CREATE TABLE sales.customers (cid integer NOT NULL, name text);

COPY public."Order Items" (id, note, qty) FROM stdin;
1	tab\\there	2.50
2	\\N	\\N
3	line\\nbreak and back\\\\slash	7
\\.


COPY sales.customers (cid, name) FROM stdin;
\\.

ALTER TABLE ONLY public."Order Items" ADD CONSTRAINT oi_pkey PRIMARY KEY (id);

\\unrestrict FS3ZFWZEca9ouNvOrCDchAf0JvfIDIdeJJeazYiN6IOWhivbraBbrX
"""


def test_a_pg_dump_with_copy_blocks_and_psql_commands_reads_with_its_rows(tmp_path):
    """pg_dump's default output: rows in `COPY ... FROM stdin` blocks in COPY's text format
    (tab-separated, `\\N` for NULL, backslash escapes), and psql's `\\restrict` lines that
    pg_dump writes since 2025 (a schema-only dump has them too). Before, neither read."""
    import sqlite3

    path = tmp_path / "shop.sql"
    path.write_text(PG_DUMP_COPY)
    con = sqlite3.connect(ddl_database(str(path)))
    try:
        rows = con.execute('SELECT id, note, qty, typeof(qty) FROM "Order Items"').fetchall()
    finally:
        con.close()
    assert rows == [(1, "tab\there", 2.5, "real"), (2, None, None, "null"),
                    (3, "line\nbreak and back\\slash", 7, "integer")]
    p = _profiles(tmp_path, PG_DUMP_COPY, "again.sql")
    assert p["Order Items"].primary_key == ["id"] and p["customers"].n_rows == 0
    for broken, message in [("1\t2\n\\.", "line 18: 2 field\\(s\\) in a COPY of 3"),
                            ("1\tx\t2", "line 17: a COPY block without its end")]:
        bad = PG_DUMP_COPY.split("COPY public")[0] + \
            'COPY public."Order Items" (id, note, qty) FROM stdin;\n' + broken
        path.write_text(bad)
        with pytest.raises(TableGraphError, match=message):
            ddl_database(str(path))


PG_HEAD = """--
-- PostgreSQL database dump
--
CREATE TABLE public."Big Table" (id integer NOT NULL, name text, amount numeric, ok boolean);
"""


def test_pg_dump_inserts_skip_sqlglot_and_read_as_its_copy_blocks_do(tmp_path, monkeypatch):
    """`pg_dump --inserts` wrote one INSERT a row, each parsed by sqlglot (a 4.8 MB dump of
    50,000 rows: 112 s). Those SQLite reads as PostgreSQL does run as written, their schema
    left out; a cast or an E'' string goes through sqlglot. The database is the one the same
    rows give as COPY blocks, booleans included (COPY's t and f are 1 and 0)."""
    import sqlite3

    import sqlglot

    monkeypatch.setenv("TABLEGRAPH_CACHE", str(tmp_path / "cache"))
    parsed = []
    parse = sqlglot.parse
    monkeypatch.setattr(sqlglot, "parse", lambda text, read=None: parsed.append(text) or
                        parse(text, read=read))
    values = [(1, "it''s", "1.5", "true"), (2, "two", "3.0", "false"), (3, "x", "NULL", "NULL")]
    inserts = PG_HEAD + "".join(f'INSERT INTO public."Big Table" VALUES ({i}, \'{n}\', {a}, '
                                f"{b});\n" for i, n, a, b in values) + \
        "INSERT INTO public.\"Big Table\" VALUES (4, E'tab\\there', '5'::numeric, true);\n"
    copy = PG_HEAD + 'COPY public."Big Table" (id, name, amount, ok) FROM stdin;\n' + \
        "1\tit's\t1.5\tt\n2\ttwo\t3.0\tf\n3\tx\t\\N\t\\N\n4\ttab\\there\t5\tt\n\\.\n"

    def rows(text, name):
        (tmp_path / name).write_text(text)
        con = sqlite3.connect(ddl_database(str(tmp_path / name)))
        try:
            return con.execute('SELECT *, typeof(amount), typeof(ok) FROM "Big Table"').fetchall()
        finally:
            con.close()

    fast = rows(inserts, "inserts.sql")
    assert "two" not in parsed[0] and "E'tab" in parsed[0]  # as written; through sqlglot
    assert fast == rows(copy, "copy.sql")
    assert fast[0] == (1, "it's", 1.5, 1, "real", "integer") and fast[3][1] == "tab\there"


def test_a_pg_dump_partition_is_read_into_its_parent(tmp_path):
    """pg_dump writes a partitioned table's partitions as tables of their own, attached by
    `ALTER TABLE ... ATTACH PARTITION`, their rows under their own names: the parent was
    empty and each partition a table. The rows now go to the topmost parent, as a live
    database's are read (sources lists no partition either)."""
    p = _profiles(tmp_path, PG_HEAD.replace('"Big Table"', "other") + """
CREATE TABLE public.sales (d date NOT NULL, amount integer) PARTITION BY RANGE (d);
CREATE TABLE public.sales_2023 (d date NOT NULL, amount integer) PARTITION BY RANGE (d);
CREATE TABLE public.sales_2023_h1 (d date NOT NULL, amount integer);
CREATE TABLE public.sales_2024 (amount integer, d date NOT NULL);
--
-- Name: sales_2023; Type: TABLE ATTACH; Schema: public; Owner: postgres
--
ALTER TABLE ONLY public.sales ATTACH PARTITION public.sales_2023 FOR VALUES FROM ('2023-01-01') TO ('2024-01-01');
ALTER TABLE ONLY public.sales_2023 ATTACH PARTITION public.sales_2023_h1 FOR VALUES FROM ('2023-01-01') TO ('2023-07-01');
ALTER TABLE ONLY public.sales ATTACH PARTITION public.sales_2024 FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
COPY public.sales_2023_h1 (d, amount) FROM stdin;
2023-05-01	1
\\.
INSERT INTO public.sales_2024 VALUES (7, '2024-02-01');
""")
    assert sorted(p) == ["other", "sales"] and p["sales"].n_rows == 2


def test_a_copy_block_names_its_columns_as_sql_does(tmp_path):
    """COPY's column list is read as SQL names are: a quoted name keeps its case, spaces
    and doubled quotes, an unquoted one is itself."""
    import sqlite3

    path = tmp_path / "quoted.sql"
    path.write_text('CREATE TABLE public.t (id integer, "Unit ""Net"" Price" numeric);\n'
                    'COPY public.t (id, "Unit ""Net"" Price") FROM stdin;\n1\t9.5\n\\.\n')
    con = sqlite3.connect(ddl_database(str(path)))
    try:
        assert con.execute('SELECT id, "Unit ""Net"" Price" FROM t').fetchall() == [(1, 9.5)]
    finally:
        con.close()


SSMS_SCRIPT = """USE [Shop]
GO
SET ANSI_NULLS ON
GO
CREATE TABLE [Sales].[Customer](
	[CustomerID] [int] IDENTITY(1,1) NOT NULL,
	[AcctNo] [nvarchar](10) NOT NULL,
 CONSTRAINT [PK_Customer] PRIMARY KEY CLUSTERED
(
	[CustomerID] ASC
)WITH (PAD_INDEX = OFF) ON [PRIMARY]
) ON [PRIMARY]
GO
CREATE TABLE [Sales].[SOH](
	[SalesOrderID] [int] IDENTITY(1,1) NOT NULL,
	[CustomerID] [int] NOT NULL,
 CONSTRAINT [PK_SOH] PRIMARY KEY NONCLUSTERED ([SalesOrderID] ASC)
) ON [PRIMARY]
GO
ALTER TABLE [Sales].[SOH]  WITH CHECK ADD  CONSTRAINT [FK_SOH_Customer] FOREIGN KEY([CustomerID])
REFERENCES [Sales].[Customer] ([CustomerID])
GO
EXEC sys.sp_addextendedproperty @name=N'MS_Description', @value=N'Current customers.' , @level0type=N'SCHEMA',@level0name=N'Sales', @level1type=N'TABLE',@level1name=N'Customer'
GO
EXEC sp_addextendedproperty N'MS_Description', N'Account number', N'SCHEMA', N'Sales', N'TABLE', N'Customer', N'COLUMN', N'AcctNo'
GO
EXEC sys.sp_addextendedproperty @name=N'MS_Description', @value=N'Clustered index' , @level0type=N'SCHEMA',@level0name=N'Sales', @level1type=N'TABLE',@level1name=N'SOH', @level2type=N'INDEX',@level2name=N'PK_SOH'
GO
"""


def test_a_sql_server_script_reads_with_keys_and_descriptions(tmp_path):
    """What SQL Server's 'Script as CREATE' writes: `GO` between batches, bracketed names,
    PRIMARY KEY CLUSTERED constraints, keys added by ALTER TABLE, and the MS_Description
    extended properties as comments (a table's, a column's; an index's is passed over)."""
    p = _profiles(tmp_path, SSMS_SCRIPT, "shop.sql")
    assert p["Customer"].primary_key == ["CustomerID"] and p["SOH"].primary_key == \
        ["SalesOrderID"]
    assert p["SOH"].foreign_keys == [ForeignKey(("CustomerID",), "Customer", ("CustomerID",))]
    assert p["Customer"].comment == "Current customers." and not p["SOH"].comment
    assert {c.name: c.comment for c in p["Customer"].columns} == {
        "CustomerID": "", "AcctNo": "Account number"}


SSMS_WITH_DATA = """USE [Northwind]
GO
/****** Object:  Table [dbo].[Customers]    Script Date: 12/4/2026 ******/
SET ANSI_NULLS ON
GO
SET QUOTED_IDENTIFIER ON
GO
CREATE TABLE [dbo].[Customers](
	[CustomerID] [nchar](5) NOT NULL,
	[CompanyName] [nvarchar](40) NOT NULL,
	[Country] [nvarchar](15) NULL,
 CONSTRAINT [PK_Customers] PRIMARY KEY CLUSTERED 
(
	[CustomerID] ASC
)WITH (PAD_INDEX = OFF, STATISTICS_NORECOMPUTE = OFF, IGNORE_DUP_KEY = OFF, ALLOW_ROW_LOCKS = ON, ALLOW_PAGE_LOCKS = ON, OPTIMIZE_FOR_SEQUENTIAL_KEY = OFF) ON [PRIMARY]
) ON [PRIMARY]
GO
CREATE TABLE [dbo].[Orders](
	[OrderID] [int] IDENTITY(1,1) NOT NULL,
	[CustomerID] [nchar](5) NULL,
	[OrderDate] [datetime] NULL,
	[Freight] [money] NULL CONSTRAINT [DF_Orders_Freight]  DEFAULT ((0)),
 CONSTRAINT [PK_Orders] PRIMARY KEY CLUSTERED ([OrderID] ASC) ON [PRIMARY]
) ON [PRIMARY]
GO
INSERT [dbo].[Customers] ([CustomerID], [CompanyName], [Country]) VALUES (N'ALFKI', N'Alfreds Futterkiste', N'Germany')
INSERT [dbo].[Customers] ([CustomerID], [CompanyName], [Country]) VALUES (N'ANATR', N'Ana Trujillo Emparedados y helados', N'Mexico')
GO
SET IDENTITY_INSERT [dbo].[Orders] ON 
INSERT [dbo].[Orders] ([OrderID], [CustomerID], [OrderDate], [Freight]) VALUES (10248, N'ALFKI', CAST(N'1996-07-04T00:00:00.000' AS DateTime), 32.3800)
SET IDENTITY_INSERT [dbo].[Orders] OFF
GO
ALTER TABLE [dbo].[Orders]  WITH NOCHECK ADD  CONSTRAINT [FK_Orders_Customers] FOREIGN KEY([CustomerID])
REFERENCES [dbo].[Customers] ([CustomerID])
GO
ALTER TABLE [dbo].[Orders] CHECK CONSTRAINT [FK_Orders_Customers]
GO
/****** Object:  StoredProcedure [dbo].[CustOrderHist] ******/
CREATE PROCEDURE [dbo].[CustOrderHist] @CustomerID nchar(5)
AS
BEGIN
SET NOCOUNT ON
SELECT CompanyName FROM Customers WHERE CustomerID = @CustomerID
END
GO
CREATE VIEW [dbo].[Customer List] AS
SELECT CustomerID, CompanyName FROM Customers
GO
"""


def test_a_sql_server_script_with_data_reads_with_its_rows(tmp_path):
    """SSMS's "Generate Scripts" with data: statements one after another without semicolons
    in a batch, `INSERT [dbo].[t]` without INTO, N'' strings, CAST(... AS DateTime), and the
    foreign key added `WITH NOCHECK` and enabled by `CHECK CONSTRAINT`, a procedure's batch
    (passed over: sqlglot read the view after it into its body). It was "not SQL that
    sqlglot parses"."""
    import sqlite3

    p = _profiles(tmp_path, SSMS_WITH_DATA, "northwind.sql")
    assert p["Customers"].n_rows == 2 and p["Orders"].primary_key == ["OrderID"]
    assert p["Customer List"].n_rows == 2  # the view after a procedure's batch
    assert p["Orders"].foreign_keys == [ForeignKey(("CustomerID",), "Customers",
                                                   ("CustomerID",))]
    con = sqlite3.connect(ddl_database(str(tmp_path / "northwind.sql")))
    assert con.execute("SELECT * FROM Orders").fetchall() == [
        (10248, "ALFKI", "1996-07-04 00:00:00", 32.38)]


def test_a_redshift_schema_reads_without_its_distribution_and_sort_keys(tmp_path):
    """Redshift's `ENCODE az64 distkey` after a column, DISTSTYLE and SORTKEY (...) made the
    file "not SQL that sqlglot parses"."""
    p = _profiles(tmp_path, """
        CREATE TABLE public.sales (
            salesid integer NOT NULL ENCODE az64,
            listid integer NOT NULL ENCODE az64 distkey,
            sellerid integer NOT NULL ENCODE az64,
            note character varying(20) ENCODE lzo,
            PRIMARY KEY (salesid)
        ) DISTSTYLE KEY COMPOUND SORTKEY ( listid, sellerid );
        CREATE TABLE public.users (userid integer NOT NULL ENCODE az64, PRIMARY KEY (userid))
        DISTSTYLE ALL;
        ALTER TABLE public.sales ADD FOREIGN KEY (sellerid) REFERENCES public.users(userid);
    """)
    assert [c.name for c in p["sales"].columns] == ["salesid", "listid", "sellerid", "note"]
    assert p["sales"].foreign_keys == [ForeignKey(("sellerid",), "users", ("userid",))]


def test_bigquery_descriptions_and_sqlplus_slashes(tmp_path):
    """BigQuery's `OPTIONS(description = ...)` are comments, as COMMENT ON is; Oracle scripts
    for SQL*Plus end statements with a line `/`."""
    bq = _profiles(tmp_path, """CREATE TABLE `proj.bikes.trips` (
  trip_id STRING OPTIONS(description="Numeric ID of bike trip"),
  bike_id STRING
) OPTIONS(description="Trips of the bike share");""", "bq.sql")
    assert bq["trips"].comment == "Trips of the bike share"
    assert [c.comment for c in bq["trips"].columns] == ["Numeric ID of bike trip", ""]
    ora = _profiles(tmp_path, """CREATE TABLE regions (region_id NUMBER, region_name VARCHAR2(25))
/
ALTER TABLE regions ADD ( CONSTRAINT reg_id_pk PRIMARY KEY (region_id) )
/
CREATE TABLE countries (country_id CHAR(2), region_id NUMBER REFERENCES regions(region_id))
/
""", "ora.sql")
    assert ora["regions"].primary_key == ["region_id"]
    assert ora["countries"].foreign_keys == [ForeignKey(("region_id",), "regions",
                                                        ("region_id",))]


def test_a_column_of_a_type_in_a_schema_keeps_it_as_declared(tmp_path):
    """pg_dump writes a domain or enum type with its schema (`public.year`), which SQLite
    refused as a column type ("near '.'"): the whole file could not be read."""
    p = _profiles(tmp_path, """CREATE TYPE public.mpaa_rating AS ENUM ('G', 'PG');
CREATE DOMAIN public.year AS integer CONSTRAINT year_check CHECK (VALUE >= 1901);
CREATE TABLE public.film (film_id integer NOT NULL, release_year public.year,
    rating public.mpaa_rating DEFAULT 'G'::public.mpaa_rating, features text[]);
INSERT INTO public.film VALUES (1, 2006, 'PG', '{"Trailers"}');
""", "pagila.sql")
    assert {c.name: c.declared for c in p["film"].columns} == {
        "film_id": "INT", "release_year": "public.year", "rating": "public.mpaa_rating",
        "features": "TEXT[]"}
    assert p["film"].n_rows == 1


SAKILA_DUMP = """-- MySQL dump 10.13  Distrib 8.0.36, for Linux (x86_64)
CREATE TABLE `film` (
  `film_id` smallint unsigned NOT NULL AUTO_INCREMENT,
  `rating` enum('G','PG','PG-13') DEFAULT 'G',
  PRIMARY KEY (`film_id`)
) ENGINE=InnoDB;
INSERT INTO `film` VALUES (1,'PG'),(2,'G');
DELIMITER ;;
/*!50003 CREATE*/ /*!50017 DEFINER=`root`@`localhost`*/ /*!50003 TRIGGER `ins_film` AFTER INSERT ON `film` FOR EACH ROW BEGIN
    INSERT INTO film_text (film_id) VALUES (new.film_id);
  END */;;
CREATE DEFINER=`root`@`localhost` PROCEDURE `film_in_stock`(IN p_film_id INT)
BEGIN
     SELECT inventory_id FROM inventory WHERE film_id = p_film_id;
END ;;
SET @x = 1 ;;
DELIMITER ;
CREATE TABLE `actor` (`actor_id` smallint unsigned NOT NULL, PRIMARY KEY (`actor_id`));
"""


def test_a_mysqldump_with_routines_and_enums_reads(tmp_path):
    """mysqldump writes triggers and routines between `DELIMITER ;;` lines, their bodies full
    of semicolons, and MySQL's ENUM types hold quoted values that SQLite refuses in a
    declared type: the file was refused. Routines are passed over, the rest of the block
    read; an ENUM column keeps its type as written."""
    p = _profiles(tmp_path, SAKILA_DUMP, "sakila.sql")
    assert sorted(p) == ["actor", "film"] and p["film"].n_rows == 2
    assert {c.name: c.declared for c in p["film"].columns}["rating"] == \
        "ENUM('G', 'PG', 'PG-13')"
    assert p["actor"].primary_key == ["actor_id"]


def test_a_sqlite_dump_reads_with_its_rows(tmp_path):
    p = _profiles(tmp_path, SQLITE_DUMP)
    assert p["Activity"].n_rows == 2 and p["Activity"].primary_key == ["actid"]
    assert p["Participates_in"].foreign_keys == [ForeignKey(("actid",), "Activity", ("actid",))]


def test_a_sqlite_dump_is_read_from_sqlite_itself(tmp_path, monkeypatch):
    """`sqlite3 db .dump` of a database with a generated column, names with spaces, a string
    over two lines and one with quotes: its INSERT lines run as written, not through sqlglot
    (one stand-in for lines in a row), SQLite's dialect reads the rest (MySQL's read
    "Unit Price" as a string), and the rows and their types are the database's own."""
    import sqlite3

    import sqlglot

    src = tmp_path / "src.sqlite"
    con = sqlite3.connect(src)
    con.executescript("""
        CREATE TABLE "Order Details" ("Order ID" INTEGER, "Unit Price" REAL, Quantity INTEGER,
            total REAL GENERATED ALWAYS AS ("Unit Price" * Quantity) VIRTUAL);
        CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT, raw BLOB);
    """)
    con.executemany('INSERT INTO "Order Details" VALUES (?, ?, ?)',
                    [(i, 1.5 * i, i % 3) for i in range(50)])
    con.executemany("INSERT INTO notes VALUES (?, ?, ?)",
                    [(1, "it's", b"\x00\x01"), (2, "two\nlines; INSERT INTO x VALUES(1);", None),
                     (3, None, b"z")])
    con.commit()
    dump = "\n".join(con.iterdump())  # as Python writes it; the CLI's .dump alike
    con.close()
    monkeypatch.setenv("TABLEGRAPH_CACHE", str(tmp_path / "cache"))
    parsed = []
    parse = sqlglot.parse
    monkeypatch.setattr(sqlglot, "parse", lambda text, read=None: parsed.append(text) or
                        parse(text, read=read))
    (tmp_path / "dump.sql").write_text(dump)
    built = sqlite3.connect(ddl_database(str(tmp_path / "dump.sql")))
    assert "1.5" not in parsed[0] and parsed[0].count("tablegraph_plain_insert_") <= 3
    original = sqlite3.connect(src)
    for q in ('SELECT *, typeof("Unit Price") FROM "Order Details"',
              "SELECT *, typeof(raw) FROM notes"):
        assert built.execute(q).fetchall() == original.execute(q).fetchall()
    assert built.execute('SELECT total FROM "Order Details" WHERE "Order ID" = 5').fetchone() \
        == (15.0,)


def test_a_mysql_schema_without_backquotes_has_no_index_for_a_column(tmp_path):
    """PostgreSQL's reader took MySQL's `KEY idx_c (customer_id)` for a column named KEY;
    a reading with such a column loses to one without (here MySQL's, with its types)."""
    p = _profiles(tmp_path, """
        CREATE TABLE customers (id INT UNSIGNED NOT NULL AUTO_INCREMENT, PRIMARY KEY (id));
        CREATE TABLE orders (
          order_id INT NOT NULL AUTO_INCREMENT,
          customer_id INT UNSIGNED NOT NULL,
          PRIMARY KEY (order_id),
          KEY idx_c (customer_id),
          UNIQUE KEY u_c (order_id, customer_id),
          CONSTRAINT fk_c FOREIGN KEY (customer_id) REFERENCES customers (id)
        ) ENGINE=InnoDB;
    """)
    assert [(c.name, c.declared) for c in p["orders"].columns] == [
        ("order_id", "INT"), ("customer_id", "INT UNSIGNED")]
    assert p["orders"].foreign_keys == [ForeignKey(("customer_id",), "customers", ("id",))]


ORACLE_EXPORT = """
--------------------------------------------------------
--  DDL for Table DEPARTMENTS
--------------------------------------------------------
  CREATE TABLE "HR"."DEPARTMENTS"
   (	"DEPARTMENT_ID" NUMBER(4,0),
	"DEPARTMENT_NAME" VARCHAR2(30 BYTE) CONSTRAINT "DEPT_NAME_NN" NOT NULL ENABLE
   ) SEGMENT CREATION IMMEDIATE
  PCTFREE 10 PCTUSED 40 INITRANS 1 MAXTRANS 255 NOCOMPRESS LOGGING
  STORAGE(INITIAL 65536 NEXT 1048576 MINEXTENTS 1 BUFFER_POOL DEFAULT)
  TABLESPACE "USERS" ;
   COMMENT ON TABLE "HR"."DEPARTMENTS"  IS 'Where employees work; ENABLE stays in a string.';
  CREATE TABLE "HR"."EMPLOYEES"
   (	"EMPLOYEE_ID" NUMBER(6,0),
	"HIRE_DATE" DATE,
	"DEPARTMENT_ID" NUMBER(4,0)
   ) SEGMENT CREATION DEFERRED TABLESPACE USERS ;
  ALTER TABLE "HR"."DEPARTMENTS" ADD CONSTRAINT "DEPT_ID_PK" PRIMARY KEY ("DEPARTMENT_ID")
  USING INDEX PCTFREE 10 INITRANS 2 MAXTRANS 255 COMPUTE STATISTICS
  TABLESPACE "USERS"  ENABLE;
  ALTER TABLE "HR"."EMPLOYEES" ADD CONSTRAINT "EMP_DEPT_FK" FOREIGN KEY ("DEPARTMENT_ID")
	  REFERENCES "HR"."DEPARTMENTS" ("DEPARTMENT_ID") ENABLE;
Insert into HR.DEPARTMENTS (DEPARTMENT_ID,DEPARTMENT_NAME) values (10,'Administration');
Insert into HR.EMPLOYEES (EMPLOYEE_ID,HIRE_DATE,DEPARTMENT_ID) values (100,to_date('17-JUN-03','DD-MON-RR'),10);
CREATE OR REPLACE EDITIONABLE PROCEDURE "HR"."ADD_JOB"
  (  p_emp_id          employees.employee_id%type
   )
IS
BEGIN
  INSERT INTO employees (employee_id) VALUES (p_emp_id);
END add_job;
/
CREATE OR REPLACE FORCE EDITIONABLE VIEW "HR"."EMP_VIEW" ("EMPLOYEE_ID", "DEPARTMENT_NAME") AS
  SELECT e.employee_id, d.department_name FROM employees e, departments d
  WHERE e.department_id = d.department_id;
"""


def test_an_oracle_export_reads_without_its_storage_clauses(tmp_path):
    """SQL Developer's and DBMS_METADATA's DDL (storage, tablespace, constraint states,
    `to_date` in its INSERTs, a PL/SQL procedure up to its `/`, a FORCE EDITIONABLE view)
    was "not SQL that sqlglot parses"."""
    p = _profiles(tmp_path, ORACLE_EXPORT)
    dept, emp = p["DEPARTMENTS"], p["EMPLOYEES"]
    assert [(c.name, c.declared) for c in dept.columns] == [
        ("DEPARTMENT_ID", "NUMBER(4, 0)"), ("DEPARTMENT_NAME", "VARCHAR2(30 BYTE)")]
    assert dept.primary_key == ["DEPARTMENT_ID"] and dept.n_rows == 1
    assert dept.comment == "Where employees work; ENABLE stays in a string."
    assert emp.foreign_keys == [ForeignKey(("DEPARTMENT_ID",), "DEPARTMENTS",
                                           ("DEPARTMENT_ID",))]
    hired = next(c for c in emp.columns if c.name == "HIRE_DATE")
    assert hired.top_values == ["17-JUN-03"]  # the date as written
    assert sorted(p) == ["DEPARTMENTS", "EMPLOYEES", "EMP_VIEW"]  # the procedure passed over
    assert p["EMP_VIEW"].n_rows == 1


def test_a_gzipped_dump_and_a_utf16_script_read(tmp_path):
    """`pg_dump | gzip` gives `.sql.gz`, and SQL Server Management Studio saves scripts as
    UTF-16: the first was "not a folder, ... or .sql schema", the second "not UTF-8 text"."""
    import gzip

    (tmp_path / "shop.sql.gz").write_bytes(gzip.compress(PG_DUMP_COPY.encode()))
    assert [r.name for r in discover(tmp_path / "shop.sql.gz")] == ["Order Items", "customers"]
    assert database_file(str(tmp_path / "shop.sql.gz")).endswith("shop.sqlite")
    (tmp_path / "nw.sql").write_bytes(SSMS_WITH_DATA.encode("utf-16"))
    assert _profiles(tmp_path, SSMS_WITH_DATA, "same.sql")["Customers"].n_rows == 2
    assert {r.name for r in discover(tmp_path / "nw.sql")} >= {"Customers", "Orders"}
    (tmp_path / "broken.sql.gz").write_bytes(b"not gzip")
    with pytest.raises(TableGraphError, match="cannot read .*broken.sql.gz"):
        discover(tmp_path / "broken.sql.gz")


MYSQLDUMP_VIEW = """-- MySQL dump 10.13  Distrib 8.0.36, for Linux (x86_64)
/*!40101 SET @OLD_CHARACTER_SET_CLIENT=@@CHARACTER_SET_CLIENT */;
DROP TABLE IF EXISTS `actor`;
CREATE TABLE `actor` (
  `actor_id` smallint unsigned NOT NULL AUTO_INCREMENT,
  `first_name` varchar(45) NOT NULL,
  PRIMARY KEY (`actor_id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
LOCK TABLES `actor` WRITE;
INSERT INTO `actor` VALUES (1,'PENELOPE'),(2,'NICK');
UNLOCK TABLES;
--
-- Temporary view structure for view `actor_info`
--
DROP TABLE IF EXISTS `actor_info`;
/*!50001 DROP VIEW IF EXISTS `actor_info`*/;
SET @saved_cs_client     = @@character_set_client;
/*!50503 SET character_set_client = utf8mb4 */;
/*!50001 CREATE VIEW `actor_info` AS SELECT 
 1 AS `actor_id`,
 1 AS `first_name`*/;
SET character_set_client = @saved_cs_client;
--
-- Final view structure for view `actor_info`
--
/*!50001 DROP VIEW IF EXISTS `actor_info`*/;
/*!50001 SET @saved_cs_client          = @@character_set_client */;
/*!50001 CREATE ALGORITHM=UNDEFINED */
/*!50013 DEFINER=`root`@`localhost` SQL SECURITY INVOKER */
/*!50001 VIEW `actor_info` AS select `a`.`actor_id` AS `actor_id`,`a`.`first_name` AS `first_name` from `actor` `a` */;
/*!50001 SET character_set_client      = @saved_cs_client */;
"""


def test_a_mysqldump_view_is_read_from_its_versioned_comments(tmp_path, monkeypatch):
    """mysqldump writes each view twice in MySQL's versioned comments (`/*!50001 ... */`,
    which MySQL runs and every other reader skips): a stand-in first, the view at the end.
    The view was lost; now it is the last one written, and the dump is still parsed once."""
    import sqlglot

    monkeypatch.setenv("TABLEGRAPH_CACHE", str(tmp_path / "cache"))
    parsed = []
    parse = sqlglot.parse
    monkeypatch.setattr(sqlglot, "parse", lambda text, read=None: parsed.append(read) or
                        parse(text, read=read))
    partitioned = """CREATE TABLE `sales` (`id` int NOT NULL, `yr` int NOT NULL) ENGINE=InnoDB
/*!50100 PARTITION BY RANGE (`yr`)
(PARTITION p0 VALUES LESS THAN (2000) ENGINE = InnoDB) */;
"""  # a versioned comment that is no view stays a comment
    p = _profiles(tmp_path, MYSQLDUMP_VIEW + partitioned)
    assert sorted(p) == ["actor", "actor_info", "sales"] and p["actor_info"].n_rows == 2
    assert sorted(p["actor_info"].columns[1].top_values) == ["NICK", "PENELOPE"]  # not 1
    assert parsed == ["mysql"]


def test_the_database_is_built_once_per_text(tmp_path):
    path = tmp_path / "schema.sql"
    path.write_text(SQLITE_DUMP)
    first = ddl_database(str(path))
    assert ddl_database(str(path)) == first
    path.write_text(SQLITE_DUMP.replace("Canoeing", "Kayaking"))
    assert ddl_database(str(path)) != first
    (tmp_path / "copy.sql").write_text(SQLITE_DUMP)  # the same text under another name
    assert ddl_database(str(tmp_path / "copy.sql")).endswith("copy.sqlite")


@pytest.mark.parametrize("text, message", [
    ("CREATE INDEX i ON t (a);", "no CREATE TABLE statement"),
    ("CREATE TABLE a (x int); ALTER TABLE b ADD PRIMARY KEY (x);",
     "ALTER TABLE names the table 'b', which no CREATE TABLE before it declares"),
    ("CREATE TABLE s1.a (x int); CREATE TABLE s2.a (y int);", "the table 'a' is created twice"),
    ("CREATE TABLE a (x int); INSERT INTO b VALUES (1);", "an INSERT fails (no such table: b)"),
    ("CREATE TABLE ((( a", "not SQL that sqlglot parses"),
])
def test_a_schema_that_cannot_be_read_is_one_error(tmp_path, text, message):
    path = tmp_path / "bad.sql"
    path.write_text(text)
    with pytest.raises(TableGraphError, match=message.replace("(", r"\(").replace(")", r"\)")):
        discover(path)


def test_a_schema_gives_the_baselines_its_database_file(tmp_path):
    """schema-search reads a SQLite file: --compare hands it the one the schema declares."""
    from tablegraph.tables.sources import database_file

    path = tmp_path / "schema.sql"
    path.write_text(SQLITE_DUMP)
    assert database_file(str(path)) == ddl_database(str(path))
    assert database_file(str(path)).endswith("schema.sqlite")


def test_views_read_as_tables_and_one_that_cannot_run_is_skipped_with_its_reason(tmp_path):
    """Reporting views are where a warehouse's questions are answered: each is read as a
    table, its query written in SQLite's dialect; one whose query cannot run (a function of
    the user's own) is skipped with the reason, as any unreadable table is."""
    text = PG_DUMP + """
CREATE OR REPLACE VIEW public.big_orders AS
    SELECT o.order_id, c.full_name, o.amt::numeric AS amount
    FROM public.t_ord o JOIN public.customers c ON c.id = o.cust WHERE o.amt > 100;
CREATE MATERIALIZED VIEW public.customer_names (cid, name) AS
    SELECT id, full_name FROM public.customers;
COMMENT ON VIEW public.big_orders IS 'orders over 100 euros';
CREATE VIEW public.cleaned AS SELECT my_udf(full_name) AS n FROM public.customers;
"""
    path = tmp_path / "schema.sql"
    path.write_text(text)
    skipped = []
    p = {t.name: t for t in profile_tables(discover(path), skipped=skipped)}
    assert sorted(p) == ["big_orders", "customer_names", "customers", "t_ord", "t_rf"]
    assert [c.name for c in p["big_orders"].columns] == ["order_id", "full_name", "amount"]
    assert p["big_orders"].comment == "orders over 100 euros"
    assert [c.name for c in p["customer_names"].columns] == ["cid", "name"]
    assert p["customer_names"].n_rows == 2  # the rows of its table
    assert [s.table for s in skipped] == ["cleaned"] and "my_udf" in skipped[0].why
    path.write_text(text + "CREATE TABLE big_orders (x int);")
    with pytest.raises(TableGraphError, match="'big_orders' is created twice"):
        discover(path)
