"""What every repository holds: the unit of work's transaction."""
from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from db.transaction import Transaction


class Repository:
    def __init__(self, tx: Transaction | AsyncSession) -> None:
        # Prebuilt statements run on `self.tx` (db.core.run): on its connection, with no ORM
        # session unless something else in the unit of work made one (db/transaction.py).
        self.tx = tx if isinstance(tx, Transaction) else Transaction.around(tx)

    @property
    def session(self) -> AsyncSession:
        """The ORM session, for ORM objects and ad-hoc queries; made at first use."""
        return self.tx.session
