"""Alembic environment: kefu's SQLAlchemy models on ``KEFU_DB_URL``.

Only kefu's own tables (kefu.store.models, kefu.handoff.models) are migrated; Rasa's
tracker store creates and owns its ``events`` table in the same database.
"""
from logging.config import fileConfig

from sqlalchemy import create_engine

from alembic import context
from kefu.handoff import models as _handoff_models  # noqa: F401 (registers the desk's tables)
from kefu.replay import review as _review_models  # noqa: F401 (registers the trainers' review queue)
from kefu.store.db import db_url
from kefu.store.models import Base

if context.config.config_file_name is not None:
    fileConfig(context.config.config_file_name, disable_existing_loggers=False)

target_metadata = Base.metadata


def url() -> str:
    """The database kefu.store.db.migrate() names, else ``KEFU_DB_URL`` (the alembic CLI)."""
    return context.config.attributes.get("url") or db_url()


def include_object(obj, name, type_, reflected, compare_to) -> bool:
    """Tables that are not kefu's (Rasa's ``events``) are never touched."""
    return not (type_ == "table" and reflected and compare_to is None)


def run_migrations_offline() -> None:
    context.configure(url=url(), target_metadata=target_metadata, literal_binds=True,
                      include_object=include_object, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    engine = create_engine(url(), future=True)
    with engine.connect() as connection:
        # batch mode: SQLite cannot ALTER most things; Alembic rebuilds the table instead.
        context.configure(connection=connection, target_metadata=target_metadata,
                          include_object=include_object, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
