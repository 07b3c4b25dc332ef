"""lti: registered LMS platforms, their people, logins, courses, line items and the scores owed back

Revision ID: 0020
Revises: 0019
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'lti_platform',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('trust_id', sa.Integer(), sa.ForeignKey('trust.id'), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('issuer', sa.String(length=400), nullable=False),
        sa.Column('client_id', sa.String(length=200), nullable=False),
        sa.Column('auth_login_url', sa.String(length=400), nullable=False),
        sa.Column('auth_token_url', sa.String(length=400), nullable=False),
        sa.Column('key_set_url', sa.String(length=400), nullable=False),
        sa.Column('deployment_ids', sa.JSON(), nullable=False),
        sa.Column('academy_id', sa.Integer(), sa.ForeignKey('academy.id'), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('issuer', 'client_id'),
    )
    op.create_index('ix_lti_platform_trust_id', 'lti_platform', ['trust_id'])
    op.create_table(
        'lti_account',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('platform_id', sa.Integer(), sa.ForeignKey('lti_platform.id', ondelete='CASCADE'), nullable=False),
        sa.Column('sub', sa.String(length=255), nullable=False),
        sa.Column('user_id', sa.Integer(), sa.ForeignKey('user.id', ondelete='CASCADE'), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('platform_id', 'sub'),
    )
    op.create_index('ix_lti_account_platform_id', 'lti_account', ['platform_id'])
    op.create_index('ix_lti_account_user_id', 'lti_account', ['user_id'])
    op.create_table(
        'lti_login',
        sa.Column('id', sa.String(length=64), nullable=False),
        sa.Column('platform_id', sa.Integer(), sa.ForeignKey('lti_platform.id', ondelete='CASCADE'), nullable=False),
        sa.Column('nonce', sa.String(length=100), nullable=False),
        sa.Column('expires_at', sa.DateTime(), nullable=False),
        sa.Column('used_at', sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_lti_login_platform_id', 'lti_login', ['platform_id'])
    op.create_index('ix_lti_login_expires_at', 'lti_login', ['expires_at'])
    op.create_table(
        'lti_course',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('platform_id', sa.Integer(), sa.ForeignKey('lti_platform.id', ondelete='CASCADE'), nullable=False),
        sa.Column('context_id', sa.String(length=255), nullable=False),
        sa.Column('title', sa.String(length=300), nullable=False),
        sa.Column('memberships_url', sa.String(length=400), nullable=True),
        sa.Column('seen_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('platform_id', 'context_id'),
    )
    op.create_index('ix_lti_course_platform_id', 'lti_course', ['platform_id'])
    op.create_table(
        'lti_grade_link',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('account_id', sa.Integer(), sa.ForeignKey('lti_account.id', ondelete='CASCADE'), nullable=False),
        sa.Column('lineitem_url', sa.String(length=400), nullable=False),
        sa.Column('scopes', sa.JSON(), nullable=False),
        sa.Column('seen_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('account_id', 'lineitem_url'),
    )
    op.create_index('ix_lti_grade_link_account_id', 'lti_grade_link', ['account_id'])
    op.create_table(
        'lti_score',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('link_id', sa.Integer(), sa.ForeignKey('lti_grade_link.id', ondelete='CASCADE'), nullable=False),
        sa.Column('acknowledgement_id', sa.Integer(), sa.ForeignKey('acknowledgement.id'), nullable=False),
        sa.Column('score', sa.Integer(), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('last_error', sa.Text(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('next_try_at', sa.DateTime(), nullable=False),
        sa.Column('claimed_at', sa.DateTime(), nullable=True),
        sa.Column('sent_at', sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('link_id', 'acknowledgement_id'),
    )
    op.create_index('ix_lti_score_link_id', 'lti_score', ['link_id'])
    op.create_index('ix_lti_score_acknowledgement_id', 'lti_score', ['acknowledgement_id'])
    op.create_index('ix_lti_score_status', 'lti_score', ['status'])


def downgrade():
    for table in ('lti_score', 'lti_grade_link', 'lti_course', 'lti_login', 'lti_account', 'lti_platform'):
        op.drop_table(table)
