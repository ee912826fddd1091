"""Writing many rows of one table at once: PostgreSQL's COPY, or one executemany elsewhere (SQLite).

For the set-based import (tts/imports/bulk.py) and the audit events it seals (tts/audit/chain.py). The rows
are written in the session's transaction, and on
PostgreSQL the rows may be a generator, so a large batch is never held in memory as parameters.
Constant defaults are filled in; computed ones (times) must be given.
"""
import json
from collections.abc import Iterable, Sequence

from psycopg.copy import QueuedLibpqWriter
from sqlalchemy import JSON, Table

from tts.extensions import db


class RawJSON(str):
    """A JSON value already serialised (the sealed audit events' details), written as it is."""


def insert_rows(table: Table, columns: Sequence[str], rows: Iterable[tuple]) -> None:
    """Columns left out get their model's constant default (COPY would leave them NULL); a column whose
    default is computed (a time) must be given."""
    fixed = {c.name: c.default.arg for c in table.columns
             if c.name not in columns and c.default is not None and c.default.is_scalar}
    computed = [c.name for c in table.columns if c.name not in columns and c.default is not None
                and not c.default.is_scalar and not c.primary_key]
    if computed:
        raise ValueError(f"give {table.name}.{', '.join(computed)}: its default is computed")
    if fixed:
        columns, rows = [*columns, *fixed], (tuple(row) + tuple(fixed.values()) for row in rows)
    if db.session.get_bind().dialect.name != "postgresql":
        session = db.session()
        params = [{c: json.loads(v) if isinstance(v, RawJSON) else v for c, v in zip(columns, row, strict=True)}
                  for row in rows]
        if params:
            session.execute(table.insert(), params)
        return
    as_json = [i for i, c in enumerate(columns) if isinstance(table.c[c].type, JSON)]
    names = ", ".join(f'"{c}"' for c in columns)
    raw = db.session.connection().connection.driver_connection  # psycopg's, in the session's transaction
    with raw.cursor() as cursor, cursor.copy(f'COPY "{table.name}" ({names}) FROM STDIN',
                                             writer=QueuedLibpqWriter(cursor)) as copy:
        # The queued writer sends from a thread of its own, so the database stores rows while Python
        # builds the next ones.
        write = copy.write_row
        if not as_json:
            for row in rows:
                write(row)
            return
        for row in rows:
            row = list(row)
            for i in as_json:
                if row[i] is not None and not isinstance(row[i], RawJSON):
                    row[i] = json.dumps(row[i])
            write(row)
