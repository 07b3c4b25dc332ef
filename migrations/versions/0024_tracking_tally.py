"""tracking_tally: completion counts per trust, academy and line manager, kept by triggers (issue 16)

The dashboards counted every person's current assignment on each view (50,000 staff: the whole user and
assignment tables). tracking_tally holds, per (trust, academy, line manager, state, due date), how many active
people are in that state; database triggers on "user" and assignment keep it in the same transaction as every
change, whatever wrote it (services, imports, erasure's bulk UPDATE, bulk SQL). The state mirrors
modules/tracking/queries.status_expr except that open assignments keep their due date instead of "due" or
"overdue", which depend on the day asked: the dashboard splits them at read time.

A person's row moves when their current assignment changes (assigned, completed, exempted, closed, replaced)
or when their trust, academy, line manager or active flag changes. Deltas go through an upsert, so concurrent
transactions add up (PostgreSQL: each waits only for the same (academy, manager) rows; SQLite: one writer).

tracking_completion_day counts the complete people per (trust, academy, UTC day of completion, late), late
meaning 23:00-23:59 UTC, which is the next London day in summer time (the reader knows which days those are;
SQLite knows no time zones): the "completion over time" chart without reading every person.

The trigger SQL below is the one definition (a migration carries its own frozen SQL); tests/tracking/
test_tally.py checks the tally against a full recount after a sequence of events on both databases.

Revision ID: 0024
Revises: 0023
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0024'
down_revision = '0023'
branch_labels = None
depends_on = None

#: Non-open states keep this as their due date (the key columns cannot be NULL in a conflict target).
NO_DATE = "1900-01-01"
KEY = "(trust_id, academy_key, manager_key, state, due_on)"


def _state(a: str, exists: str) -> str:
    """SQL for the state of an assignment row `a` (exists: SQL that is false when there is none)."""
    return (f"CASE WHEN NOT ({exists}) THEN 'unassigned' WHEN {a}.completed_at IS NOT NULL THEN 'complete' "
            f"WHEN {a}.closed_reason = 'exempt' THEN 'exempt' WHEN {a}.closed_on IS NOT NULL THEN 'unassigned' "
            f"ELSE 'open' END")


def _due(a: str, exists: str) -> str:
    return (f"CASE WHEN ({exists}) AND {a}.completed_at IS NULL AND {a}.closed_on IS NULL "
            f"AND ({a}.closed_reason IS NULL OR {a}.closed_reason <> 'exempt') THEN {a}.due_on ELSE '{NO_DATE}' END")


_UPSERT = f" ON CONFLICT {KEY} DO UPDATE SET people = tracking_tally.people + excluded.people"


DAY_KEY = "(trust_id, academy_key, completed_on, late)"
_DAY_UPSERT = (f" ON CONFLICT {DAY_KEY} DO UPDATE "
               "SET people = tracking_completion_day.people + excluded.people")


def _sqlite_day(user: str, completed: str, sign: int, from_: str, where: str) -> str:
    """The companion statement: a complete person also counts on their completion's UTC day (late: 23:xx UTC,
    which is the next London day in summer time)."""
    return (f"INSERT INTO tracking_completion_day {DAY_KEY[:-1]}, people) "
            f"SELECT {user}.trust_id, coalesce({user}.academy_id, 0), date({completed}), "
            f"strftime('%H', {completed}) = '23', {sign} FROM {from_} "
            f"WHERE ({where}) AND {completed} IS NOT NULL{_DAY_UPSERT};")


def _sqlite_bump(user: str, a: str, exists: str, sign: int, from_: str, where: str) -> str:
    """INSERT … SELECT … ON CONFLICT statements adding `sign` to the rows of (user, assignment a)."""
    return (f"INSERT INTO tracking_tally {KEY[:-1]}, people) "
            f"SELECT {user}.trust_id, coalesce({user}.academy_id, 0), coalesce({user}.line_manager_id, 0), "
            f"{_state(a, exists)}, {_due(a, exists)}, {sign} FROM {from_} WHERE {where}{_UPSERT}; "
            + _sqlite_day(user, f"{a}.completed_at", sign, from_, where))


def _sqlite_assignment(event: str) -> str:
    """SQLite: an assignment row changed; the person moves from their state before to their state after.

    Before: this row if it was current, else their other current assignment (o, if any); after: likewise.
    """
    other = ('"user" u LEFT JOIN assignment o ON o.user_id = u.id AND o.is_current AND o.id <> {me}.id')
    parts = []
    if event in ("UPDATE", "DELETE"):
        parts.append(
            f"INSERT INTO tracking_tally {KEY[:-1]}, people) "
            "SELECT u.trust_id, coalesce(u.academy_id, 0), coalesce(u.line_manager_id, 0), "
            f"CASE WHEN OLD.is_current THEN {_state('OLD', '1')} ELSE {_state('o', 'o.id IS NOT NULL')} END, "
            f"CASE WHEN OLD.is_current THEN {_due('OLD', '1')} ELSE {_due('o', 'o.id IS NOT NULL')} END, -1 "
            f"FROM {other.format(me='OLD')} WHERE u.id = OLD.user_id AND u.active{_UPSERT};")
        parts.append(_sqlite_day("u", "CASE WHEN OLD.is_current THEN OLD.completed_at ELSE o.completed_at END", -1,
                                 other.format(me="OLD"), "u.id = OLD.user_id AND u.active"))
    else:
        parts.append(_sqlite_bump("u", "o", "o.id IS NOT NULL", -1, other.format(me="NEW"),
                                  "u.id = NEW.user_id AND u.active"))
    if event in ("UPDATE", "INSERT"):
        parts.append(
            f"INSERT INTO tracking_tally {KEY[:-1]}, people) "
            "SELECT u.trust_id, coalesce(u.academy_id, 0), coalesce(u.line_manager_id, 0), "
            f"CASE WHEN NEW.is_current THEN {_state('NEW', '1')} ELSE {_state('o', 'o.id IS NOT NULL')} END, "
            f"CASE WHEN NEW.is_current THEN {_due('NEW', '1')} ELSE {_due('o', 'o.id IS NOT NULL')} END, 1 "
            f"FROM {other.format(me='NEW')} WHERE u.id = NEW.user_id AND u.active{_UPSERT};")
        parts.append(_sqlite_day("u", "CASE WHEN NEW.is_current THEN NEW.completed_at ELSE o.completed_at END", 1,
                                 other.format(me="NEW"), "u.id = NEW.user_id AND u.active"))
    else:
        parts.append(_sqlite_bump("u", "o", "o.id IS NOT NULL", 1, other.format(me="OLD"),
                                  "u.id = OLD.user_id AND u.active"))
    return " ".join(parts)


_ASSIGNMENT_CHANGED = ("OLD.is_current IS NOT NEW.is_current OR OLD.completed_at IS NOT NEW.completed_at "
                       "OR OLD.closed_on IS NOT NEW.closed_on OR OLD.closed_reason IS NOT NEW.closed_reason "
                       "OR OLD.due_on IS NOT NEW.due_on OR OLD.user_id IS NOT NEW.user_id")
_USER_CHANGED = ("OLD.trust_id IS NOT NEW.trust_id OR OLD.academy_id IS NOT NEW.academy_id "
                 "OR OLD.line_manager_id IS NOT NEW.line_manager_id OR OLD.active IS NOT NEW.active")
_CURRENT = "assignment a ON a.user_id = {me}.id AND a.is_current"

SQLITE = (
    "CREATE TRIGGER tracking_tally_assignment_insert AFTER INSERT ON assignment WHEN NEW.is_current BEGIN "
    + _sqlite_assignment("INSERT") + " END",
    "CREATE TRIGGER tracking_tally_assignment_update AFTER UPDATE ON assignment "
    f"WHEN (OLD.is_current OR NEW.is_current) AND ({_ASSIGNMENT_CHANGED}) BEGIN "
    + _sqlite_assignment("UPDATE") + " END",
    "CREATE TRIGGER tracking_tally_assignment_delete AFTER DELETE ON assignment WHEN OLD.is_current BEGIN "
    + _sqlite_assignment("DELETE") + " END",
    "CREATE TRIGGER tracking_tally_user_insert AFTER INSERT ON \"user\" WHEN NEW.active BEGIN "
    + _sqlite_bump("NEW", "a", "a.id IS NOT NULL", 1, "(SELECT 1) one LEFT JOIN " + _CURRENT.format(me="NEW"), "1")
    + " END",
    f"CREATE TRIGGER tracking_tally_user_update AFTER UPDATE ON \"user\" WHEN {_USER_CHANGED} BEGIN "
    + _sqlite_bump("OLD", "a", "a.id IS NOT NULL", -1, "(SELECT 1) one LEFT JOIN " + _CURRENT.format(me="OLD"),
                   "OLD.active")
    + " " + _sqlite_bump("NEW", "a", "a.id IS NOT NULL", 1, "(SELECT 1) one LEFT JOIN " + _CURRENT.format(me="NEW"),
                         "NEW.active")
    + " END",
    # BEFORE: the person's current assignment is still there (a cascade would delete it first).
    "CREATE TRIGGER tracking_tally_user_delete BEFORE DELETE ON \"user\" WHEN OLD.active BEGIN "
    + _sqlite_bump("OLD", "a", "a.id IS NOT NULL", -1, "(SELECT 1) one LEFT JOIN " + _CURRENT.format(me="OLD"), "1")
    + " END",
)

POSTGRESQL = (
    f"""CREATE OR REPLACE FUNCTION tracking_tally_bump(p_trust integer, p_academy integer, p_manager integer,
        p_exists boolean, p_completed timestamp, p_closed_on date, p_closed_reason text, p_due date,
        p_delta integer) RETURNS void LANGUAGE plpgsql AS $$
    DECLARE s text := 'open'; d date := DATE '{NO_DATE}';
    BEGIN
        IF NOT p_exists THEN s := 'unassigned';
        ELSIF p_completed IS NOT NULL THEN s := 'complete';
        ELSIF p_closed_reason = 'exempt' THEN s := 'exempt';
        ELSIF p_closed_on IS NOT NULL THEN s := 'unassigned';
        ELSE d := p_due;
        END IF;
        INSERT INTO tracking_tally {KEY[:-1]}, people)
        VALUES (p_trust, coalesce(p_academy, 0), coalesce(p_manager, 0), s, d, p_delta){_UPSERT};
        IF s = 'complete' THEN
            INSERT INTO tracking_completion_day {DAY_KEY[:-1]}, people)
            VALUES (p_trust, coalesce(p_academy, 0), p_completed::date, extract(hour FROM p_completed) = 23,
                    p_delta){_DAY_UPSERT};
        END IF;
    END $$""",
    """CREATE OR REPLACE FUNCTION tracking_tally_assignment() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE uid integer; me integer; u "user"%ROWTYPE; o assignment%ROWTYPE; has_o boolean;
    BEGIN
        IF TG_OP = 'DELETE' THEN uid := OLD.user_id; me := OLD.id; ELSE uid := NEW.user_id; me := NEW.id; END IF;
        IF TG_OP = 'INSERT' THEN
            IF NOT NEW.is_current THEN RETURN NULL; END IF;
        ELSIF TG_OP = 'DELETE' THEN
            IF NOT OLD.is_current THEN RETURN NULL; END IF;
        ELSIF NOT (OLD.is_current OR NEW.is_current) THEN RETURN NULL;
        END IF;
        SELECT * INTO u FROM "user" WHERE id = uid AND active;
        IF NOT FOUND THEN RETURN NULL; END IF;
        SELECT * INTO o FROM assignment WHERE user_id = uid AND is_current AND id <> me;
        has_o := FOUND;
        IF TG_OP <> 'INSERT' AND OLD.is_current THEN
            PERFORM tracking_tally_bump(u.trust_id, u.academy_id, u.line_manager_id, true, OLD.completed_at,
                                        OLD.closed_on, OLD.closed_reason, OLD.due_on, -1);
        ELSE
            PERFORM tracking_tally_bump(u.trust_id, u.academy_id, u.line_manager_id, has_o, o.completed_at,
                                        o.closed_on, o.closed_reason, o.due_on, -1);
        END IF;
        IF TG_OP <> 'DELETE' AND NEW.is_current THEN
            PERFORM tracking_tally_bump(u.trust_id, u.academy_id, u.line_manager_id, true, NEW.completed_at,
                                        NEW.closed_on, NEW.closed_reason, NEW.due_on, 1);
        ELSE
            PERFORM tracking_tally_bump(u.trust_id, u.academy_id, u.line_manager_id, has_o, o.completed_at,
                                        o.closed_on, o.closed_reason, o.due_on, 1);
        END IF;
        RETURN NULL;
    END $$""",
    """CREATE OR REPLACE FUNCTION tracking_tally_user() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE uid integer; a assignment%ROWTYPE; has_a boolean;
    BEGIN
        IF TG_OP = 'DELETE' THEN uid := OLD.id; ELSE uid := NEW.id; END IF;
        SELECT * INTO a FROM assignment WHERE user_id = uid AND is_current;
        has_a := FOUND;
        IF TG_OP <> 'INSERT' AND OLD.active THEN
            PERFORM tracking_tally_bump(OLD.trust_id, OLD.academy_id, OLD.line_manager_id, has_a, a.completed_at,
                                        a.closed_on, a.closed_reason, a.due_on, -1);
        END IF;
        IF TG_OP <> 'DELETE' AND NEW.active THEN
            PERFORM tracking_tally_bump(NEW.trust_id, NEW.academy_id, NEW.line_manager_id, has_a, a.completed_at,
                                        a.closed_on, a.closed_reason, a.due_on, 1);
        END IF;
        IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
        RETURN NULL;
    END $$""",
    "CREATE TRIGGER tracking_tally_assignment_change AFTER INSERT OR DELETE ON assignment "
    "FOR EACH ROW EXECUTE FUNCTION tracking_tally_assignment()",
    "CREATE TRIGGER tracking_tally_assignment_update AFTER UPDATE ON assignment FOR EACH ROW "
    f"WHEN ({_ASSIGNMENT_CHANGED.replace('IS NOT', 'IS DISTINCT FROM')}) "
    "EXECUTE FUNCTION tracking_tally_assignment()",
    "CREATE TRIGGER tracking_tally_user_insert AFTER INSERT ON \"user\" "
    "FOR EACH ROW EXECUTE FUNCTION tracking_tally_user()",
    "CREATE TRIGGER tracking_tally_user_update AFTER UPDATE ON \"user\" FOR EACH ROW "
    f"WHEN ({_USER_CHANGED.replace('IS NOT', 'IS DISTINCT FROM')}) EXECUTE FUNCTION tracking_tally_user()",
    # BEFORE: the person's current assignment is still there (the cascade deletes it after the row).
    "CREATE TRIGGER tracking_tally_user_delete BEFORE DELETE ON \"user\" "
    "FOR EACH ROW EXECUTE FUNCTION tracking_tally_user()",
)

_DROP = {
    'sqlite': [f"DROP TRIGGER IF EXISTS tracking_tally_{name}" for name in (
        "assignment_insert", "assignment_update", "assignment_delete", "user_insert", "user_update",
        "user_delete")],
    'postgresql': [
        "DROP TRIGGER IF EXISTS tracking_tally_assignment_change ON assignment",
        "DROP TRIGGER IF EXISTS tracking_tally_assignment_update ON assignment",
        'DROP TRIGGER IF EXISTS tracking_tally_user_insert ON "user"',
        'DROP TRIGGER IF EXISTS tracking_tally_user_update ON "user"',
        'DROP TRIGGER IF EXISTS tracking_tally_user_delete ON "user"',
        "DROP FUNCTION IF EXISTS tracking_tally_assignment()",
        "DROP FUNCTION IF EXISTS tracking_tally_user()",
        "DROP FUNCTION IF EXISTS tracking_tally_bump(integer, integer, integer, boolean, timestamp, date, text, "
        "date, integer)",
    ],
}

#: The recount that fills the tally from the data already there.
BACKFILL = (
    f"INSERT INTO tracking_tally {KEY[:-1]}, people) "
    "SELECT u.trust_id, coalesce(u.academy_id, 0), coalesce(u.line_manager_id, 0), "
    f"{_state('a', 'a.id IS NOT NULL')}, {_due('a', 'a.id IS NOT NULL')}, count(*) "
    'FROM "user" u LEFT JOIN assignment a ON a.user_id = u.id AND a.is_current WHERE u.active '
    "GROUP BY 1, 2, 3, 4, 5"
)
BACKFILL_DAYS = {
    'sqlite': "date(a.completed_at), strftime('%H', a.completed_at) = '23'",
    'postgresql': "CAST(a.completed_at AS date), extract(hour FROM a.completed_at) = 23",
}


def _backfill_days(dialect: str) -> str:
    return (f"INSERT INTO tracking_completion_day {DAY_KEY[:-1]}, people) "
            f"SELECT u.trust_id, coalesce(u.academy_id, 0), {BACKFILL_DAYS[dialect]}, count(*) "
            'FROM "user" u JOIN assignment a ON a.user_id = u.id AND a.is_current '
            "WHERE u.active AND a.completed_at IS NOT NULL GROUP BY 1, 2, 3, 4")


def upgrade():
    op.create_table(
        'tracking_tally',
        sa.Column('trust_id', sa.Integer(), nullable=False),
        sa.Column('academy_key', sa.Integer(), nullable=False),
        sa.Column('manager_key', sa.Integer(), nullable=False),
        sa.Column('state', sa.String(length=12), nullable=False),
        sa.Column('due_on', sa.Date(), nullable=False),
        sa.Column('people', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['trust_id'], ['trust.id'], name=op.f('fk_tracking_tally_trust_id_trust')),
        sa.PrimaryKeyConstraint('trust_id', 'academy_key', 'manager_key', 'state', 'due_on',
                                name=op.f('pk_tracking_tally')),
    )
    op.create_table(
        'tracking_completion_day',
        sa.Column('trust_id', sa.Integer(), nullable=False),
        sa.Column('academy_key', sa.Integer(), nullable=False),
        sa.Column('completed_on', sa.Date(), nullable=False),
        sa.Column('late', sa.Boolean(), nullable=False),
        sa.Column('people', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['trust_id'], ['trust.id'],
                                name=op.f('fk_tracking_completion_day_trust_id_trust')),
        sa.PrimaryKeyConstraint('trust_id', 'academy_key', 'completed_on', 'late',
                                name=op.f('pk_tracking_completion_day')),
    )
    dialect = op.get_bind().dialect.name
    op.execute(BACKFILL)
    op.execute(_backfill_days(dialect))
    for statement in (SQLITE if dialect == 'sqlite' else POSTGRESQL):
        op.execute(statement)


def downgrade():
    for statement in _DROP[op.get_bind().dialect.name]:
        op.execute(statement)
    op.drop_table('tracking_completion_day')
    op.drop_table('tracking_tally')
