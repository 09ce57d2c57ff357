"""A database handed over as files that describe it (`--tables FOLDER` with a DDL.csv and a
JSON per table, as Spider 2.0 keeps its SQLite, Snowflake and BigQuery databases) reads as
the database they describe: its tables, types, descriptions and sample rows."""

import csv
import json
import os

import pytest

from tablegraph.tables.metadata import metadata_database
from tablegraph.tables.profile import profile_tables
from tablegraph.tables.sources import database_file, databases_in, discover
from tablegraph.utils import TableGraphError

SQLITE_DDL = [
    ("albums", "CREATE TABLE albums (\n    AlbumId INTEGER,\n    Title NVARCHAR(160),\n"
               "    ArtistId INTEGER\n);"),
    ("sqlite_sequence", "CREATE TABLE sqlite_sequence (\n    name ,\n    seq \n);"),
    ("artists", "CREATE TABLE artists (\n    ArtistId INTEGER,\n    Name NVARCHAR(120)\n);"),
    ("tracks", "CREATE TABLE tracks (\n    TrackId INTEGER,\n    Name NVARCHAR(200),\n"
               "    AlbumId INTEGER,\n    Composer NVARCHAR(220),\n    Extra TEXT\n);"),
]
TRACKS = {"table_name": "tracks", "table_fullname": "tracks",
          "column_names": ["TrackId", "Name", "AlbumId", "Composer", "Extra"],
          "column_types": ["INTEGER", "NVARCHAR(200)", "INTEGER", "NVARCHAR(220)", "TEXT"],
          "description": ["", "", "", "who wrote it", None],
          "sample_rows": [{"TrackId": 744, "Name": "Soy Gitano", "AlbumId": 57,
                           "Composer": None, "Extra": {"b": [1, 2]}},
                          {"TrackId": 2742, "Name": "The Seeker", "AlbumId": 221,
                           "Composer": "Pete Townshend", "Extra": "x"}]}
SNOWFLAKE_DDL = [
    ("REGION", "", 'create or replace TABLE REGION (\n\t"regionid" NUMBER(38,0),\n'
                   '\t"regiondescription" VARCHAR(16777216)\n);'),
    ("TERRITORIES", "sales territories",
     'create or replace TABLE TERRITORIES (\n\t"territoryid" VARCHAR(16777216),\n'
     '\t"regionid" NUMBER(38,0)\n);'),
]
BIGQUERY_DDL = [("studies", """CREATE TABLE `proj-1.pdc.studies`
(
  study_name STRING OPTIONS(description="Name of the study"),
  site STRING
)
OPTIONS(friendly_name="STUDIES", description="Studies of the programme");""")]


def _write(folder, header, rows, tables=()):
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "DDL.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    for name, data in tables:
        with open(os.path.join(folder, name), "w") as f:
            json.dump(data, f)
    return str(folder)


def _profiles(spec):
    return {p.name: p for p in profile_tables(discover(spec), progress=False)}


def test_spider2_sqlite_metadata_reads_tables_rows_and_descriptions(tmp_path):
    folder = _write(tmp_path / "chinook", ["table_name", "DDL"], SQLITE_DDL,
                    [("tracks.json", TRACKS), ("notes.json", {"what": "not a table"})])
    p = _profiles(folder)
    assert sorted(p) == ["albums", "artists", "tracks"]  # SQLite's own table left out
    assert (p["tracks"].n_rows, p["albums"].n_rows) == (2, 0)
    cols = {c.name: c for c in p["tracks"].columns}
    assert cols["Composer"].comment == "who wrote it"
    assert "The Seeker" in cols["Name"].top_values
    assert '{"b": [1, 2]}' in cols["Extra"].top_values  # a nested value kept as JSON
    assert database_file(folder) == discover(folder)[0].location  # one SQLite file


def test_snowflake_and_bigquery_metadata_read_descriptions_from_csv_and_ddl(tmp_path):
    snow = _write(tmp_path / "NORTHWIND" / "NORTHWIND", ["table_name", "description", "DDL"],
                  SNOWFLAKE_DDL, [("NORTHWIND.REGION.json", {
                      "table_name": "NORTHWIND.REGION", "column_names": ["regionid"],
                      "description": [None],
                      "sample_rows": [{"regionid": 2, "regiondescription": "Western"}]})])
    p = _profiles(tmp_path / "NORTHWIND")  # the database's folder, its schema's below
    assert p["TERRITORIES"].comment == "sales territories"
    assert p["REGION"].n_rows == 1  # "NORTHWIND.REGION" is the table REGION
    assert "Western" in {v for c in p["REGION"].columns for v in c.top_values}
    assert snow
    bq = _profiles(_write(tmp_path / "pdc" / "proj-1.pdc", ["table_name", "ddl"], BIGQUERY_DDL))
    assert bq["studies"].comment == "Studies of the programme"
    assert [c.comment for c in bq["studies"].columns] == ["Name of the study", ""]


def test_a_folder_of_described_databases_maps_db_ids_to_them(tmp_path):
    _write(tmp_path / "dbs" / "chinook", ["table_name", "DDL"], SQLITE_DDL)
    _write(tmp_path / "dbs" / "NORTHWIND" / "NORTHWIND", ["table_name", "description", "DDL"],
           SNOWFLAKE_DDL)
    found = databases_in(str(tmp_path / "dbs"))
    assert sorted(found) == ["chinook", "northwind"]
    assert [r.name for r in discover(found["northwind"])] == ["REGION", "TERRITORIES"]


def test_a_csv_named_ddl_without_ddl_column_is_data_and_an_edit_is_read_again(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "ddl.csv").write_text("table_name,rows\norders,3\n")
    assert [r.name for r in discover(data)] == ["ddl"]  # a table of the user's, as before
    folder = _write(tmp_path / "m", ["table_name", "DDL"], SQLITE_DDL)
    first = metadata_database(folder)
    assert metadata_database(folder) == first  # built once
    _write(folder, ["table_name", "DDL"], SQLITE_DDL[:2])
    again = metadata_database(folder)
    assert again != first and [r.name for r in discover(folder)] == ["albums"]


def test_metadata_that_cannot_be_read_is_one_error(tmp_path):
    folder = _write(tmp_path / "bad", ["table_name", "DDL"],
                    [("t", "CREATE TABLE t (a INT);"), ("t", "CREATE TABLE t (b INT);")])
    with pytest.raises(TableGraphError, match="created twice"):
        discover(folder)
    rows = _write(tmp_path / "rows", ["table_name", "DDL"], [("t", "CREATE TABLE t (a INT);")],
                  [("t.json", {"table_name": "t", "column_names": ["a"],
                               "sample_rows": [{"a": 1}]})])
    with open(os.path.join(rows, "t.json"), "w") as f:
        f.write("{not json")
    with pytest.raises(TableGraphError, match="cannot read"):
        discover(rows)


CATALOGUE = [
    {"db_id": "concert_singer", "table_names_original": ["singer", "concert", "singer_in_concert"],
     "table_names": ["singer", "concert", "singer in concert"],
     "column_names_original": [[-1, "*"], [0, "Singer_ID"], [0, "Name"], [1, "concert_ID"],
                               [1, "Year"], [2, "concert_ID"], [2, "Singer_ID"]],
     "column_names": [[-1, "*"], [0, "singer id"], [0, "name"], [1, "concert id"],
                      [1, "year"], [2, "concert id"], [2, "singer id"]],
     "column_types": ["text", "number", "text", "number", "time", "number", "text"],
     "primary_keys": [1, 3, [5, 6]], "foreign_keys": [[5, 3], [6, 1]]},
    {"db_id": "formula_1", "table_names_original": ["drivers", "results"],
     "table_names": ["drivers", "race results"],
     "column_names_original": [[-1, "*"], [0, "driverId"], [0, "driverRef"], [1, "resultId"],
                               [1, "driverId"]],
     "column_names": [[-1, "*"], [0, "driver id"], [0, "driver reference name"],
                      [1, "result id"], [1, "driver id"]],
     "column_types": ["text", "integer", "text", "integer", "integer"],
     "primary_keys": [1, 3], "foreign_keys": [[4, 1]]},
]


def test_spider_tables_json_reads_as_schema_only_databases_by_db_id(tmp_path):
    one = tmp_path / "one.json"
    one.write_text(json.dumps(CATALOGUE[:1]))
    p = _profiles(one)  # a tables.json of one database: that database, not a table "one"
    assert sorted(p) == ["concert", "singer", "singer_in_concert"]
    assert p["singer_in_concert"].primary_key == ["concert_ID", "Singer_ID"]
    assert {(fk.columns, fk.table) for fk in p["singer_in_concert"].foreign_keys} == {
        (("concert_ID",), "concert"), (("Singer_ID",), "singer")}
    assert [c.declared for c in p["concert"].columns] == ["NUMERIC", "DATETIME"]
    assert database_file(str(one)) == discover(one)[0].location
    both = tmp_path / "tables.json"
    both.write_text(json.dumps(CATALOGUE))
    found = databases_in(str(both))
    assert sorted(found) == ["concert_singer", "formula_1"]
    f1 = _profiles(found["formula_1"])
    # a readable name is a comment where it says more than the name itself
    assert [c.comment for c in f1["drivers"].columns] == ["", "driver reference name"]
    assert (f1["results"].comment, f1["drivers"].comment) == ("race results", "")
    # without a db_id to pick one, its databases are one catalogue, named as their db_ids
    refs = discover(both)
    assert {(r.database, r.name.split(".")[0]) for r in refs} == {
        ("concert_singer", "concert_singer"), ("formula_1", "formula_1")}
    assert "concert_singer.singer_in_concert" in [r.name for r in refs]
    data = tmp_path / "rows.json"  # a JSON of rows stays a table
    data.write_text(json.dumps([{"db_id": 1, "table_names_original": "x"}]))
    assert [r.name for r in discover(data)] == ["rows"]


def test_a_tables_json_that_is_not_one_is_one_error(tmp_path):
    bad = tmp_path / "tables.json"
    bad.write_text(json.dumps([{**CATALOGUE[1], "foreign_keys": [[9, 1]]}]))
    with pytest.raises(TableGraphError, match="not a schema as tables.json writes one"):
        discover(bad)
    bad.write_text(json.dumps([{"db_id": "x", "table_names_original": ["t"]},
                               {"column_names_original": []}]))
    with pytest.raises(TableGraphError, match="entry 1 has no"):
        discover(bad)
    bad.write_text(json.dumps([{**CATALOGUE[1], "table_names_original": ["t", "T"]}]))
    with pytest.raises(TableGraphError, match="'T' is named twice"):
        discover(bad)


def test_datasets_that_share_a_table_name_keep_both_qualified(tmp_path):
    """A BigQuery database described as one folder per dataset: a table name two datasets
    share is qualified by its dataset, as SQL naming `project.dataset.table` reads it."""
    from tablegraph.tables.questions import Question, resolve_tables, sql_tables

    for ds, extra in (("proj-1.sales", "region"), ("proj-1.archive", "notes")):
        _write(tmp_path / "db" / ds, ["table_name", "ddl"],
               [("studies", f"CREATE TABLE `{ds}.studies` (id INT64, {extra} STRING);"),
                (extra, f"CREATE TABLE `{ds}.{extra}_t` (x INT64 REFERENCES `{ds}.studies` "
                        f"(id));")],
               [("studies.json", {"table_name": "studies", "column_names": ["id", extra],
                                  "sample_rows": [{"id": 1, extra: f"from {ds}"}]})])
    p = _profiles(tmp_path / "db")
    assert sorted(p) == ["archive.studies", "notes_t", "region_t", "sales.studies"]
    assert "from proj-1.sales" in p["sales.studies"].columns[1].top_values
    assert [c.name for c in p["archive.studies"].columns] == ["id", "notes"]
    assert [fk.table for fk in p["notes_t"].foreign_keys] == ["archive.studies"]
    _write(tmp_path / "db" / "proj-2.sales", ["table_name", "ddl"],  # sales again
           [("studies", "CREATE TABLE `proj-2.sales.studies` (id INT64);")])
    with pytest.raises(TableGraphError, match="two datasets hold the table 'sales.studies'"):
        discover(tmp_path / "db")
    gold = sql_tables("SELECT * FROM `proj-1.sales.studies` JOIN proj.archive.studies")
    assert resolve_tables([Question("q", tuple(gold))], list(p))[0].tables == (
        "sales.studies", "archive.studies")
