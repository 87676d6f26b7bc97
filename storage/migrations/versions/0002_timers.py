"""scheduler timers, obligations, calendar runs and heartbeats

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.base

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

PENDING = "done_at IS NULL"


def upgrade() -> None:
    op.create_table('calendar_run',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('job', sa.String(length=60), nullable=False),
    sa.Column('scheduled_for', storage.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('run_by', sa.String(length=120), nullable=False),
    sa.Column('started_at', storage.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('result', sa.JSON(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_calendar_run')),
    sa.UniqueConstraint('job', 'scheduled_for', name=op.f('uq_calendar_run_job_scheduled_for'))
    )
    op.create_table('daemon_heartbeat',
    sa.Column('id', sa.String(length=120), nullable=False),
    sa.Column('host', sa.String(length=200), nullable=False),
    sa.Column('pid', sa.Integer(), nullable=False),
    sa.Column('started_at', storage.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('beat_at', storage.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('stopped_at', storage.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('passes', sa.Integer(), nullable=False),
    sa.Column('fired', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_daemon_heartbeat'))
    )
    op.create_table('obligation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=40), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('period', sa.Integer(), nullable=False),
    sa.Column('task_id', sa.Integer(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('created_at', storage.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['task_id'], ['task.id'], name=op.f('fk_obligation_task_id_task')),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_obligation_unit_id_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_obligation')),
    sa.UniqueConstraint('key', 'unit_id', 'year', 'period', name=op.f('uq_obligation_key_unit_id_year_period')),
    sa.UniqueConstraint('task_id', name=op.f('uq_obligation_task_id'))
    )
    op.create_table('timer',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('task_id', sa.Integer(), nullable=False),
    sa.Column('deadline_id', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=60), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('slot', sa.Integer(), nullable=False),
    sa.Column('occurrence', sa.Integer(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('legal_end', sa.Date(), nullable=False),
    sa.Column('fire_at', storage.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('days', sa.Integer(), nullable=False),
    sa.Column('to_role', sa.String(length=16), nullable=True),
    sa.Column('repeat_every', sa.Integer(), nullable=True),
    sa.Column('event', sa.String(length=60), nullable=True),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('claimed_by', sa.String(length=120), nullable=True),
    sa.Column('lease_until', storage.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('fired_by', sa.String(length=120), nullable=True),
    sa.Column('created_at', storage.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('done_at', storage.base.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['deadline_id'], ['deadline.id'], name=op.f('fk_timer_deadline_id_deadline')),
    sa.ForeignKeyConstraint(['task_id'], ['task.id'], name=op.f('fk_timer_task_id_task')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_timer')),
    sa.UniqueConstraint('deadline_id', 'kind', 'slot', 'occurrence', name=op.f('uq_timer_deadline_id_kind_slot_occurrence'))
    )
    with op.batch_alter_table('timer', schema=None) as batch_op:
        # Only pending timers are indexed by firing time: the sweep reads nothing else.
        batch_op.create_index('ix_timer_pending_fire_at', ['fire_at'], unique=False,
                              sqlite_where=sa.text(PENDING), postgresql_where=sa.text(PENDING))
        batch_op.create_index(batch_op.f('ix_timer_task_id'), ['task_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('timer', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_timer_task_id'))
        batch_op.drop_index('ix_timer_pending_fire_at')
    op.drop_table('timer')
    op.drop_table('obligation')
    op.drop_table('daemon_heartbeat')
    op.drop_table('calendar_run')
