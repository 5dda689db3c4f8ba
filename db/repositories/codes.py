from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, select, update

from db.models import Code
from db.repositories.base import Repository


@dataclass(frozen=True)
class CodeRow:
    id: int
    code: str
    owner_id: int
    kind: str
    label: str | None
    active: bool
    qr_file_id: str | None


_COLUMNS = (Code.id, Code.code, Code.owner_id, Code.kind, Code.label, Code.active, Code.qr_file_id)


_BY_CODE = select(*_COLUMNS).where(Code.code == bindparam("code"))


class CodeRepository(Repository):
    async def by_code(self, code: str) -> CodeRow | None:
        row = (await self.session.execute(_BY_CODE, {"code": code})).first()
        return CodeRow(*row) if row else None

    async def personal(self, owner_id: int) -> CodeRow | None:
        row = (
            await self.session.execute(
                select(*_COLUMNS).where(Code.owner_id == owner_id, Code.kind == "personal")
            )
        ).first()
        return CodeRow(*row) if row else None

    async def of_owner(self, owner_id: int) -> list[CodeRow]:
        rows = await self.session.execute(select(*_COLUMNS).where(Code.owner_id == owner_id).order_by(Code.id))
        return [CodeRow(*r) for r in rows]

    async def insert(self, *, code: str, owner_id: int, kind: str, label: str | None, now: datetime) -> int:
        obj = Code(code=code, owner_id=owner_id, kind=kind, label=label, active=True, created_at=now)
        self.session.add(obj)
        await self.session.flush()
        return obj.id

    async def set_qr_file_id(self, code_id: int, file_id: str) -> None:
        await self.session.execute(update(Code).where(Code.id == code_id).values(qr_file_id=file_id))
