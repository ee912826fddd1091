"""`flask backup dump` and `flask backup restore-drill`: a PostgreSQL backup with a manifest, and the drill that
proves a backup restores (docs/deploy.md, "Backups").

`dump` runs pg_dump inside a snapshot it exported itself, and counts every table's rows in that same snapshot:
the manifest (the dump's name plus .json) says exactly what the dump holds. `restore-drill` restores a dump into
a new scratch database on the same server (or --server) and checks it: the schema is at the code's newest
migration, the audit chain verifies, and every table has the manifest's row count. It drops the scratch
database afterwards (unless --keep) and exits 1 naming every check that failed.
"""
import json
import shutil
import subprocess
from datetime import datetime
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from tts.clock import utcnow


def _libpq(url) -> str:
    """The URL as pg_dump and psycopg want it (no SQLAlchemy driver name)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _tables() -> list[str]:
    from tts.extensions import db

    return sorted(t.name for t in db.metadata.sorted_tables)


def _counts(cursor, tables: list[str]) -> dict[str, int]:
    from psycopg import sql

    return {name: cursor.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(name))).fetchone()[0]
            for name in tables}


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise click.ClickException(f"{name} is not installed: apt-get install postgresql-client")
    return found


def _postgres_url() -> str:
    url = current_app.config["SQLALCHEMY_DATABASE_URI"]
    if not url.startswith("postgresql"):
        raise click.ClickException("backups here are for PostgreSQL. A SQLite database (development only) is one "
                                   "file: copy it with `sqlite3 FILE '.backup COPY'`.")
    return url


@click.group("backup")
def backup_cli():
    """Back up the database, and prove a backup restores."""


@backup_cli.command("dump")
@click.option("--to", "folder", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Folder for the dump and its manifest.")
@with_appcontext
def dump_command(folder: Path):
    """pg_dump (custom format) of the database, with a manifest of row counts from the same snapshot."""
    import psycopg

    url = _libpq(_postgres_url())
    folder.mkdir(parents=True, exist_ok=True)
    stamp = utcnow().strftime("%Y%m%dT%H%M%SZ")
    target = folder / f"tts-{stamp}.dump"
    with psycopg.connect(url) as connection:
        connection.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        snapshot = connection.execute("SELECT pg_export_snapshot()").fetchone()[0]
        with connection.cursor() as cursor:
            counts = _counts(cursor, _tables())
            version = [row[0] for row in cursor.execute("SELECT version_num FROM alembic_version")]
            sealed, unsealed = cursor.execute(
                "SELECT count(*) FILTER (WHERE hash IS NOT NULL), count(*) FILTER (WHERE hash IS NULL) "
                "FROM audit_events").fetchone()
        # pg_dump joins the snapshot while this transaction holds it open: the dump and the counts agree.
        result = subprocess.run([_tool("pg_dump"), "--format=custom", f"--snapshot={snapshot}", "--no-owner",
                                 f"--file={target}", url], capture_output=True, text=True)
        connection.rollback()
    if result.returncode:
        raise click.ClickException(f"pg_dump failed: {result.stderr.strip()}")
    manifest = {"created_at": utcnow().isoformat(), "dump": target.name, "alembic_version": version,
                "tables": counts, "audit_events": {"sealed": sealed, "unsealed": unsealed}}
    Path(f"{target}.json").write_text(json.dumps(manifest, indent=2) + "\n")
    click.echo(f"Wrote {target} ({target.stat().st_size // 1024} KB) and {target.name}.json: "
               f"{sum(counts.values())} rows in {len(counts)} tables.")


@backup_cli.command("restore-drill")
@click.argument("dump", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--server", default=None, help="Restore on this PostgreSQL server (a URL; default: the app's own).")
@click.option("--keep", is_flag=True, help="Keep the scratch database afterwards, to look around.")
@with_appcontext
def restore_drill_command(dump: Path, server: str | None, keep: bool):
    """Restore DUMP into a new scratch database and check it: migrations at head, the audit chain verifies,
    row counts match its manifest. Exit 1 if any check fails."""
    from tts.audit.chain import verify
    from tts.ops.readiness import code_heads

    manifest_path = Path(f"{dump}.json")
    if not manifest_path.exists():
        raise click.ClickException(f"{manifest_path.name} is missing: the drill compares the restored rows with the "
                                   f"manifest `flask backup dump` writes beside each dump")
    manifest = json.loads(manifest_path.read_text())
    base = make_url(server or _postgres_url())
    scratch = f"tts_restore_drill_{datetime.now().strftime('%Y%m%d%H%M%S')}"
    admin = create_engine(base.set(drivername="postgresql+psycopg", database="postgres"), isolation_level="AUTOCOMMIT")
    target = base.set(drivername="postgresql+psycopg", database=scratch)
    problems: list[str] = []
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{scratch}"'))
    click.echo(f"Restoring {dump.name} into {scratch} ...")
    try:
        result = subprocess.run([_tool("pg_restore"), "--no-owner", "--no-privileges", "--exit-on-error",
                                 f"--dbname={_libpq(target)}", str(dump)], capture_output=True, text=True)
        if result.returncode:
            problems.append(f"pg_restore failed: {result.stderr.strip()}")
            raise click.ClickException(problems[-1])
        engine = create_engine(target)
        try:
            with Session(engine) as session:
                versions = set(session.scalars(text("SELECT version_num FROM alembic_version")))
                heads = set(code_heads())
                _check(problems, versions == heads, f"schema at the code's newest migration ({', '.join(sorted(heads))})",
                       f"the restored schema is at {', '.join(sorted(versions)) or 'nothing'}, the code needs "
                       f"{', '.join(sorted(heads))}: run `flask db upgrade` on it after restoring")
                verdict = verify(session)
                _check(problems, verdict.ok, f"audit chain verifies ({verdict.checked} sealed events"
                       f"{f', {verdict.unsealed} not sealed yet when the dump was taken' if verdict.unsealed else ''})",
                       f"audit chain broken at position {verdict.broken_at}: {verdict.reason}")
                with session.connection().connection.driver_connection.cursor() as cursor:
                    restored = _counts(cursor, sorted(manifest["tables"]))
                wrong = {name: (count, restored[name]) for name, count in manifest["tables"].items()
                         if restored[name] != count}
                _check(problems, not wrong, f"row counts match the manifest ({sum(restored.values())} rows in "
                       f"{len(restored)} tables)", "row counts differ: " + ", ".join(
                           f"{name} {want} in the manifest, {got} restored" for name, (want, got) in sorted(wrong.items())))
        finally:
            engine.dispose()
    finally:
        if keep:
            click.echo(f"Kept the scratch database {scratch}: drop it with DROP DATABASE \"{scratch}\".")
        else:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)'))
        admin.dispose()
    if problems:
        raise click.ClickException(f"the restore drill FAILED: {len(problems)} problem(s)")
    click.echo(f"The restore drill passed: {dump.name} restores and checks out.")


def _check(problems: list[str], ok: bool, passed: str, failed: str) -> None:
    if ok:
        click.echo(f"  ok    {passed}")
    else:
        problems.append(failed)
        click.echo(f"  FAIL  {failed}", err=True)
