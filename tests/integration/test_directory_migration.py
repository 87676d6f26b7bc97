"""Migration 0005 on a database written before it: a unit left with several active heads (the
old import added one per new head) keeps its latest, and the others are recorded as replaced."""

from __future__ import annotations

from alembic import command
from sqlalchemy import Engine, insert, select, text

from storage.base import Base
from storage.migrate import MIGRATIONS_DIR, upgrade
from tests.conftest import local
from tests.integration.schema_drift import drift

UNIT = Base.metadata.tables["unit"]
PERSON = Base.metadata.tables["person"]
CHANGE = Base.metadata.tables["directory_change"]


def upgrade_to(engine: Engine, revision: str) -> None:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def test_a_unit_with_several_active_heads_keeps_its_latest_and_the_rest_is_recorded(
        empty_db: Engine) -> None:
    upgrade_to(empty_db, "0003")
    t = [local(2024, 1, 2), local(2024, 6, 3, 10), local(2025, 2, 4, 11)]
    with empty_db.begin() as conn:
        conn.execute(insert(UNIT), [
            {"id": 1, "code": "BVDK", "name": "BV", "kind": "public", "active": True,
             "created_at": t[0]},
            {"id": 2, "code": "TTYT", "name": "TT", "kind": "public", "active": True,
             "created_at": t[0]}])
        conn.execute(insert(PERSON), [
            {"id": i, "email": email, "name": name, "role": role, "unit_id": unit,
             "active": True, "created_at": at}
            for i, email, name, role, unit, at in (
                (1, "a@bv.vn", "A", "unit_head", 1, t[0]),
                (2, "t@tt.vn", "T", "unit_head", 2, t[0]),
                (3, "b@bv.vn", "B", "unit_head", 1, t[1]),
                (4, "p@bv.vn", "P", "pi", 1, t[1]),
                (5, "c@bv.vn", "C", "unit_head", 1, t[2]))])

    upgrade(empty_db)

    assert drift(empty_db) == []
    with empty_db.connect() as conn:
        active = conn.execute(select(PERSON.c.email).where(PERSON.c.active.is_(True))
                              .order_by(PERSON.c.id)).scalars().all()
        assert active == ["t@tt.vn", "p@bv.vn", "c@bv.vn"]
        rows = conn.execute(select(CHANGE).order_by(CHANGE.c.id)).all()
    assert [(r.at, r.entity, r.key, r.change, r.details, r.operator) for r in rows] == [
        (t[1], "unit", "BVDK", "head_replaced",
         {"old": {"email": "a@bv.vn", "name": "A"}, "new": {"email": "b@bv.vn", "name": "B"}},
         "migration 0005"),
        (t[1], "person", "a@bv.vn", "deactivated",
         {"reason": "replaced as head of unit BVDK by b@bv.vn"}, "migration 0005"),
        (t[2], "unit", "BVDK", "head_replaced",
         {"old": {"email": "b@bv.vn", "name": "B"}, "new": {"email": "c@bv.vn", "name": "C"}},
         "migration 0005"),
        (t[2], "person", "b@bv.vn", "deactivated",
         {"reason": "replaced as head of unit BVDK by c@bv.vn"}, "migration 0005")]


def test_the_one_active_head_index_exists_after_the_migration(
        empty_db: Engine) -> None:
    upgrade(empty_db)
    with empty_db.connect() as conn:
        if empty_db.dialect.name == "sqlite":
            sql = conn.execute(text("SELECT sql FROM sqlite_master WHERE name = "
                                    "'uq_person_one_active_head'")).scalar_one()
        else:
            sql = conn.execute(text("SELECT indexdef FROM pg_indexes WHERE indexname = "
                                    "'uq_person_one_active_head'")).scalar_one()
    assert "UNIQUE" in sql.upper() and "unit_head" in sql and "active" in sql
