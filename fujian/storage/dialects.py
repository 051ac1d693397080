"""What each SQL dialect spells its own way: a substring's position (search) and the fastest
way to insert many rows (COPY on PostgreSQL, compiled executemany elsewhere).

Above storage, SQL is written once in SQLAlchemy; what differs by backend is compiled here.
"""

from __future__ import annotations

from sqlalchemy import Integer
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from fujian.storage.base import check_no_nul


class position(FunctionElement):  # noqa: N801 - reads as the SQL function it is
    """Where ``word`` first occurs in ``text`` (1-based, 0 when absent): instr() in SQLite,
    strpos() in PostgreSQL. Plain substring search: no LIKE wildcards to escape."""

    type = Integer()
    inherit_cache = True


@compiles(position)
def _position_default(element, compiler, **kw):
    return f"strpos({compiler.process(element.clauses, **kw)})"


@compiles(position, "sqlite")
def _position_sqlite(element, compiler, **kw):
    return f"instr({compiler.process(element.clauses, **kw)})"


def bulk_insert(connection, table, records: list[dict], batch: int = 5000) -> None:
    """Insert many rows at DB-API speed: the statement is compiled once and each column's bind
    processor (the dialect's own conversion, so this stays portable) is looked up once,
    instead of SQLAlchemy building parameters row by row — which was a third of a 100k-row
    import."""
    if not records:
        return
    keys = list(records[0])
    dialect = connection.dialect
    if dialect.name == "postgresql":
        copy_in(connection, table, keys, records)
        return
    compiled = table.insert().compile(dialect=dialect, column_keys=keys)
    converters = []
    for key in keys:
        processor = table.c[key].type._cached_bind_processor(dialect)
        converters.append(processor)
    positional = compiled.positiontup
    order = list(positional) if positional else keys
    index = {key: i for i, key in enumerate(keys)}
    picks = [(index[name], converters[index[name]]) for name in order]
    sql = compiled.string
    for start in range(0, len(records), batch):
        rows = []
        for record in records[start:start + batch]:
            values = list(record.values())
            converted = [values[i] if convert is None else convert(values[i])
                         for i, convert in picks]
            rows.append(tuple(converted) if positional else dict(zip(order, converted,
                                                                     strict=True)))
        connection.exec_driver_sql(sql, rows)


def copy_in(connection, table, keys: list[str], records: list[dict]) -> None:
    """Many rows into ``table`` with COPY FROM STDIN, inside the caller's transaction: half the
    time of one INSERT per row for an import or a copy (docs/performance.md). COPY bypasses
    the engine's statement hook, so the NUL rule is applied here."""
    check_no_nul(records)
    columns = ", ".join(f'"{key}"' for key in keys)
    cursor = connection.connection.dbapi_connection.cursor()
    try:
        with cursor.copy(f'COPY "{table.name}" ({columns}) FROM STDIN') as copy:
            for record in records:
                copy.write_row([record[key] for key in keys])
    finally:
        cursor.close()
