"""training discussion note: the line manager's optional note on a "training discussed" record

Free text about a person, so it lives in its own deletable table beside the append-only record.

Revision ID: 0021
Revises: 0020
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'training_discussion_note',
        sa.Column('discussion_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(['discussion_id'], ['training_discussion.id'],
                                name=op.f('fk_training_discussion_note_discussion_id_training_discussion')),
        sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_training_discussion_note_user_id_user')),
        sa.PrimaryKeyConstraint('discussion_id', name=op.f('pk_training_discussion_note')),
    )
    op.create_index(op.f('ix_training_discussion_note_user_id'), 'training_discussion_note', ['user_id'],
                    unique=False)


def downgrade():
    op.drop_index(op.f('ix_training_discussion_note_user_id'), table_name='training_discussion_note')
    op.drop_table('training_discussion_note')
