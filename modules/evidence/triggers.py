"""DDL for append-only tables: triggers that refuse UPDATE and DELETE (and TRUNCATE on PostgreSQL).

Triggers, not grants, because the app may connect as the table owner. This file is the one live definition
of that SQL. A model opts in by carrying `info={"append_only": True}` in its `__table_args__`; the migration
that creates the table installs the triggers from a FROZEN COPY of these statements pasted into the migration
(`python -m modules.evidence.triggers TABLE …` prints the block to paste), because a migration never imports
live code: changing this file must not change what an old migration installs. tests/attestation/
test_triggers.py checks, after `upgrade head`, that every such table has exactly the triggers defined here.
Alembic batch mode on SQLite rebuilds a table and loses its triggers: a later migration that alters an
append-only table must install them again.
"""

import sys

#: Table info key marking an append-only table (UPDATE/DELETE/TRUNCATE refused by triggers).
APPEND_ONLY = "append_only"
#: Table info key marking an evidence table: every column must be covered by a ledger record hash.
EVIDENCE = "evidence"

#: PostgreSQL trigger function shared by every append-only table.
PG_FUNCTION = "policypass_refuse_change"


def trigger_names(table: str) -> dict[str, list[str]]:
    """The trigger names append_only_ddl creates for a table, per dialect."""
    return {
        "sqlite": [f"{table}_refuse_update", f"{table}_refuse_delete"],
        "postgresql": [f"{table}_refuse_change", f"{table}_refuse_truncate"],
    }


def append_only_ddl(table: str) -> tuple[list[str], list[str]]:
    """(SQLite statements, PostgreSQL statements) creating the refusing triggers for a table."""
    names = trigger_names(table)
    message = f"{table} is append-only"
    sqlite = [
        f"CREATE TRIGGER {names['sqlite'][0]} BEFORE UPDATE ON {table} "
        f"BEGIN SELECT RAISE(ABORT, '{message}: UPDATE refused'); END",
        f"CREATE TRIGGER {names['sqlite'][1]} BEFORE DELETE ON {table} "
        f"BEGIN SELECT RAISE(ABORT, '{message}: DELETE refused'); END",
    ]
    postgresql = [
        f"CREATE OR REPLACE FUNCTION {PG_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP "
        "USING ERRCODE = 'insufficient_privilege'; END $$",
        f"CREATE TRIGGER {names['postgresql'][0]} BEFORE UPDATE OR DELETE ON {table} "
        f"FOR EACH ROW EXECUTE FUNCTION {PG_FUNCTION}()",
        f"CREATE TRIGGER {names['postgresql'][1]} BEFORE TRUNCATE ON {table} "
        f"FOR EACH STATEMENT EXECUTE FUNCTION {PG_FUNCTION}()",
    ]
    return sqlite, postgresql


def drop_append_only_ddl(table: str) -> tuple[list[str], list[str]]:
    """(SQLite statements, PostgreSQL statements) removing the triggers again (for downgrades)."""
    names = trigger_names(table)
    return ([f"DROP TRIGGER IF EXISTS {name}" for name in names["sqlite"]],
            [f"DROP TRIGGER IF EXISTS {name} ON {table}" for name in names["postgresql"]])


def migration_block() -> str:
    """Python source of the frozen trigger SQL and the two functions a migration pastes in (see module doc)."""
    sqlite, postgresql = append_only_ddl("{table}")
    drop_sqlite, drop_postgresql = drop_append_only_ddl("{table}")

    def literal(statements: list[str]) -> str:
        return "".join(f"        {s!r},\n" for s in statements)

    return (
        "# Frozen copy of the append-only trigger SQL (modules/evidence/triggers.py when this migration was\n"
        "# written): a migration never imports live code, so changing that file cannot change what this installs.\n"
        "_APPEND_ONLY_SQL = {\n"
        f"    'sqlite': (\n{literal(sqlite)}    ),\n"
        f"    'postgresql': (\n{literal(postgresql)}    ),\n"
        "}\n"
        "_DROP_APPEND_ONLY_SQL = {\n"
        f"    'sqlite': (\n{literal(drop_sqlite)}    ),\n"
        f"    'postgresql': (\n{literal(drop_postgresql)}    ),\n"
        "}\n\n\n"
        "def _install_append_only(table: str) -> None:\n"
        "    for statement in _APPEND_ONLY_SQL[op.get_bind().dialect.name]:\n"
        "        op.execute(statement.format(table=table))\n\n\n"
        "def _remove_append_only(table: str) -> None:\n"
        "    for statement in _DROP_APPEND_ONLY_SQL[op.get_bind().dialect.name]:\n"
        "        op.execute(statement.format(table=table))\n"
    )


if __name__ == "__main__":
    sys.stdout.write(migration_block())
