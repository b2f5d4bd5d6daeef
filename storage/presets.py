"""Named configurations. The defaults (``DEFAULT_PRESETS``) are seeded on start and cannot be deleted, renamed or
overwritten; saving under a new name is always possible."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection

from core.config import StrategyConfig
from storage import codec
from storage._base import StoreBase, aware, utcnow
from storage.errors import ConflictError, NotFound
from storage.models import presets
from storage.values import Preset

DEFAULT_PRESETS: dict[str, StrategyConfig] = {
    "Default": StrategyConfig(),
    "Conservative (5 % triggers)": StrategyConfig(trigger_up=0.05, trigger_down=0.05),
    "Active (2 % triggers)": StrategyConfig(trigger_up=0.02, trigger_down=0.02),
}


def _preset(row: Any) -> Preset:
    return Preset(
        name=row.name,
        config=StrategyConfig.from_dict(codec.loads(row.config)),
        is_default=bool(row.is_default),
        created_at=aware(row.created_at),
        updated_at=aware(row.updated_at),
    )


def _clean_name(name: str) -> str:
    cleaned = " ".join(str(name).split())
    if not cleaned:
        raise ValueError("a preset needs a name")
    if len(cleaned) > 200:
        raise ValueError("a preset name has at most 200 characters")
    return cleaned


class PresetsMixin(StoreBase):
    """Save, load, rename and delete presets."""

    def _seed_presets(self) -> None:
        wanted = set(DEFAULT_PRESETS)
        have = set(self._read(lambda conn: conn.execute(
            sa.select(presets.c.name).where(presets.c.name.in_(wanted))).scalars().all()))
        if wanted <= have:
            return

        def seed(conn: Connection) -> None:
            present = set(conn.execute(sa.select(presets.c.name).where(presets.c.name.in_(wanted))).scalars())
            now = utcnow()
            insert = (pg_insert if conn.dialect.name == "postgresql" else sqlite_insert)(presets)
            for name, config in DEFAULT_PRESETS.items():
                if name not in present:
                    # another process starting at the same moment may seed it first: skip, never fail
                    stmt = insert.values(name=name, config=codec.dumps(config.to_dict()), is_default=True,
                                         created_at=now, updated_at=now).on_conflict_do_nothing(index_elements=["name"])
                    if conn.execute(stmt).rowcount == 1:
                        self._audit(conn, "create", "preset", name, {"default": True})

        self._write(seed)

    def list_presets(self) -> list[Preset]:
        """Every preset: the defaults first (in ``DEFAULT_PRESETS`` order), then the others by name."""
        rows = self._read(lambda conn: conn.execute(sa.select(presets)).all())
        order = {name: i for i, name in enumerate(DEFAULT_PRESETS)}
        rows.sort(key=lambda r: (not r.is_default, order.get(r.name, len(order)), r.name))
        return [_preset(r) for r in rows]

    def get_preset(self, name: str) -> Preset:
        """The preset called ``name``; :class:`~storage.errors.NotFound` if there is none."""
        row = self._read(lambda conn: conn.execute(sa.select(presets).where(presets.c.name == name)).first())
        if row is None:
            raise NotFound(f"no preset named {name!r}; pick one from the list of presets")
        return _preset(row)

    def save_preset(self, name: str, config: StrategyConfig, *, overwrite: bool = False) -> Preset:
        """Save ``config`` under ``name``. An existing preset of that name is replaced only with ``overwrite=True``,
        and a default preset never is (:class:`ConflictError`: save under another name)."""
        name = _clean_name(name)
        payload = codec.dumps(config.to_dict())

        def save(conn: Connection) -> None:
            row = conn.execute(sa.select(presets).where(presets.c.name == name)).first()
            now = utcnow()
            if row is None:
                conn.execute(sa.insert(presets).values(name=name, config=payload, is_default=False, created_at=now,
                                                       updated_at=now))
                self._audit(conn, "create", "preset", name)
                return
            if row.is_default:
                raise ConflictError(f"{name!r} is a default preset and cannot be changed; save under another name")
            if not overwrite:
                raise ConflictError(f"a preset named {name!r} already exists; choose another name or overwrite it")
            conn.execute(sa.update(presets).where(presets.c.id == row.id).values(config=payload, updated_at=now))
            self._audit(conn, "update", "preset", name)

        self._write(save)
        return self.get_preset(name)

    def rename_preset(self, old: str, new: str) -> Preset:
        """Rename a (non-default) preset; :class:`ConflictError` if ``new`` is taken."""
        new = _clean_name(new)

        def rename(conn: Connection) -> None:
            row = conn.execute(sa.select(presets).where(presets.c.name == old)).first()
            if row is None:
                raise NotFound(f"no preset named {old!r}; pick one from the list of presets")
            if row.is_default:
                raise ConflictError(f"{old!r} is a default preset and cannot be renamed; save a copy under a new name")
            if new == old:
                return
            if conn.execute(sa.select(presets.c.id).where(presets.c.name == new)).first() is not None:
                raise ConflictError(f"a preset named {new!r} already exists; choose another name")
            conn.execute(sa.update(presets).where(presets.c.id == row.id).values(name=new, updated_at=utcnow()))
            self._audit(conn, "update", "preset", new, {"renamed_from": old})

        self._write(rename)
        return self.get_preset(new)

    def delete_preset(self, name: str) -> None:
        """Delete a (non-default) preset."""

        def delete(conn: Connection) -> None:
            row = conn.execute(sa.select(presets).where(presets.c.name == name)).first()
            if row is None:
                raise NotFound(f"no preset named {name!r}; pick one from the list of presets")
            if row.is_default:
                raise ConflictError(f"{name!r} is a default preset and cannot be deleted")
            conn.execute(sa.delete(presets).where(presets.c.id == row.id))
            self._audit(conn, "delete", "preset", name)

        self._write(delete)
