"""DDL for append-only tables: triggers that refuse UPDATE and DELETE (and TRUNCATE on PostgreSQL).

Triggers, not grants, because the app may connect as the table owner. Migrations create them with
`install_append_only(op, table)`; a model opts in by carrying `info={"append_only": True}` in its
`__table_args__`, and tests/attestation/test_triggers.py checks every such table after `upgrade head`.
Alembic batch mode on SQLite rebuilds a table and loses its triggers: a later migration that alters an
append-only table must call `install_append_only` again.
"""

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


def _pick(bind, pair: tuple[list[str], list[str]]) -> list[str]:
    return pair[1] if bind.dialect.name == "postgresql" else pair[0]


def install_append_only(op, table: str) -> None:
    """From a migration: create the refusing triggers for `table` on the database being migrated."""
    for statement in _pick(op.get_bind(), append_only_ddl(table)):
        op.execute(statement)


def remove_append_only(op, table: str) -> None:
    """From a migration's downgrade: drop the triggers `install_append_only` created."""
    for statement in _pick(op.get_bind(), drop_append_only_ddl(table)):
        op.execute(statement)
