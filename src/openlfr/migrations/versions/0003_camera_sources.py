"""Camera sources of deployments (sealed URLs) and deployment names.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "deployment_cameras",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("deployment_id", sa.String(length=36), nullable=False),
        sa.Column("camera", sa.String(length=100), nullable=False),
        sa.Column("source", sa.LargeBinary(), nullable=False),
        sa.Column("display", sa.String(length=2000), nullable=False),
        sa.ForeignKeyConstraint(["deployment_id"], ["deployments.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("deployment_id", "camera"),
    )
    with op.batch_alter_table("deployment_cameras", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_deployment_cameras_deployment_id"), ["deployment_id"], unique=False
        )
    with op.batch_alter_table("deployments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("name", sa.String(length=100), nullable=True))
        batch_op.create_unique_constraint("uq_deployments_name", ["name"])


def downgrade() -> None:
    with op.batch_alter_table("deployments", schema=None) as batch_op:
        batch_op.drop_constraint("uq_deployments_name", type_="unique")
        batch_op.drop_column("name")
    with op.batch_alter_table("deployment_cameras", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_deployment_cameras_deployment_id"))
    op.drop_table("deployment_cameras")
