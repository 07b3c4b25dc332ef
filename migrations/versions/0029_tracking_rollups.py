"""tracking rollups: the tally summed per academy and per line manager's team, kept by triggers (issue 16)

tracking_tally (0024) holds active people per (trust, academy, line manager, state, due date): at 50,000 staff
with ~4,000 line managers and open assignments spread over many due dates it has about as many rows as there
are open people, and the overview read all of them on every view. Two rollups of it, kept by triggers on
tracking_tally itself (so in the same transaction as every change that moves the tally, whatever wrote it):

- tracking_tally_academy: per (trust, academy, state, due date), line managers summed out: the headline and
  completion by academy (open people keep their due date, so "due" and "overdue" are still split on the day
  asked);
- tracking_tally_team: per (trust, line manager, academy, state), due dates summed out ("open" is due or
  overdue): per cent complete by team, for the overview's team chart.

tracking_tally rows are inserted and their `people` changed by 0024's upserts; a delete or a change of key
(nothing does either) is handled too. tests/tracking/test_tally.py checks both rollups against the full recount
from the people after every kind of event, on both databases.

Revision ID: 0029
Revises: 0028
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0029'
down_revision = '0028'
branch_labels = None
depends_on = None

ACADEMY = ("tracking_tally_academy", "trust_id, academy_key, state, due_on")
TEAM = ("tracking_tally_team", "trust_id, manager_key, academy_key, state")


def _upsert(table: tuple[str, str], row: str, people: str) -> str:
    """Add `people` to the rollup's row of the tally row `row` (NEW or OLD; in PostgreSQL a record)."""
    name, key = table
    values = ", ".join(f"{row}.{column.strip()}" for column in key.split(","))
    return (f"INSERT INTO {name} ({key}, people) VALUES ({values}, {people}) "
            f"ON CONFLICT ({key}) DO UPDATE SET people = {name}.people + excluded.people;")


def _both(row: str, people: str) -> str:
    return _upsert(ACADEMY, row, people) + " " + _upsert(TEAM, row, people)


_SAME_KEY = ("OLD.trust_id = NEW.trust_id AND OLD.academy_key = NEW.academy_key AND "
             "OLD.manager_key = NEW.manager_key AND OLD.state = NEW.state AND OLD.due_on = NEW.due_on")

SQLITE = (
    f"CREATE TRIGGER tracking_rollup_insert AFTER INSERT ON tracking_tally BEGIN {_both('NEW', 'NEW.people')} END",
    "CREATE TRIGGER tracking_rollup_update AFTER UPDATE ON tracking_tally "
    f"WHEN {_SAME_KEY} AND NEW.people <> OLD.people BEGIN {_both('NEW', 'NEW.people - OLD.people')} END",
    f"CREATE TRIGGER tracking_rollup_rekey AFTER UPDATE ON tracking_tally WHEN NOT ({_SAME_KEY}) BEGIN "
    f"{_both('OLD', '-OLD.people')} {_both('NEW', 'NEW.people')} END",
    f"CREATE TRIGGER tracking_rollup_delete AFTER DELETE ON tracking_tally BEGIN {_both('OLD', '-OLD.people')} END",
)

POSTGRESQL = (
    f"""CREATE OR REPLACE FUNCTION tracking_rollup() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'UPDATE' AND {_SAME_KEY} THEN
            IF NEW.people <> OLD.people THEN {_both('NEW', 'NEW.people - OLD.people')} END IF;
            RETURN NULL;
        END IF;
        IF TG_OP <> 'INSERT' THEN {_both('OLD', '-OLD.people')} END IF;
        IF TG_OP <> 'DELETE' THEN {_both('NEW', 'NEW.people')} END IF;
        RETURN NULL;
    END $$""",
    "CREATE TRIGGER tracking_rollup AFTER INSERT OR UPDATE OR DELETE ON tracking_tally "
    "FOR EACH ROW EXECUTE FUNCTION tracking_rollup()",
)

_DROP = {
    'sqlite': [f"DROP TRIGGER IF EXISTS tracking_rollup_{name}" for name in ("insert", "update", "rekey", "delete")],
    'postgresql': ["DROP TRIGGER IF EXISTS tracking_rollup ON tracking_tally",
                   "DROP FUNCTION IF EXISTS tracking_rollup()"],
}


def upgrade():
    op.create_table(
        'tracking_tally_academy',
        sa.Column('trust_id', sa.Integer(), nullable=False),
        sa.Column('academy_key', sa.Integer(), nullable=False),
        sa.Column('state', sa.String(length=12), nullable=False),
        sa.Column('due_on', sa.Date(), nullable=False),
        sa.Column('people', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['trust_id'], ['trust.id'], name=op.f('fk_tracking_tally_academy_trust_id_trust')),
        sa.PrimaryKeyConstraint('trust_id', 'academy_key', 'state', 'due_on', name=op.f('pk_tracking_tally_academy')),
    )
    op.create_table(
        'tracking_tally_team',
        sa.Column('trust_id', sa.Integer(), nullable=False),
        sa.Column('manager_key', sa.Integer(), nullable=False),
        sa.Column('academy_key', sa.Integer(), nullable=False),
        sa.Column('state', sa.String(length=12), nullable=False),
        sa.Column('people', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['trust_id'], ['trust.id'], name=op.f('fk_tracking_tally_team_trust_id_trust')),
        sa.PrimaryKeyConstraint('trust_id', 'manager_key', 'academy_key', 'state',
                                name=op.f('pk_tracking_tally_team')),
    )
    # Filled from the tally as it stands (no zero rows), then kept by the triggers.
    op.execute(f"INSERT INTO {ACADEMY[0]} ({ACADEMY[1]}, people) SELECT {ACADEMY[1]}, sum(people) "
               f"FROM tracking_tally GROUP BY {ACADEMY[1]} HAVING sum(people) <> 0")
    op.execute(f"INSERT INTO {TEAM[0]} ({TEAM[1]}, people) SELECT {TEAM[1]}, sum(people) "
               f"FROM tracking_tally GROUP BY {TEAM[1]} HAVING sum(people) <> 0")
    for statement in (SQLITE if op.get_bind().dialect.name == 'sqlite' else POSTGRESQL):
        op.execute(statement)


def downgrade():
    for statement in _DROP[op.get_bind().dialect.name]:
        op.execute(statement)
    op.drop_table('tracking_tally_team')
    op.drop_table('tracking_tally_academy')
