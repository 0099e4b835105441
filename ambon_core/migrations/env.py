"""Alembic environment: runs on the connection handed over by ``ambon_core.db.migrate``,
or on DATABASE_URL when called from the alembic CLI."""

from alembic import context
from sqlalchemy import create_engine

from ambon_core.models import Base

config = context.config
target_metadata = Base.metadata


def _run(connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata,
                      render_as_batch=connection.dialect.name == "sqlite")
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    from ambon_core.settings import get_settings

    with create_engine(get_settings().database_url).begin() as conn:
        _run(conn)
