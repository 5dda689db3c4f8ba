"""Triggers that make ledger_entries append-only, for the migration and for create_all alike."""
from __future__ import annotations

from sqlalchemy import DDL, Table, event

GUARD_DDL: dict[str, dict[str, list[str]]] = {
    "postgresql": {
        "create": [
            """CREATE OR REPLACE FUNCTION ledger_append_only() RETURNS trigger AS $$
            BEGIN RAISE EXCEPTION 'ledger_entries is append-only: add a reversal or payout entry instead'; END;
            $$ LANGUAGE plpgsql""",
            """CREATE TRIGGER ledger_append_only BEFORE UPDATE OR DELETE ON ledger_entries
            FOR EACH ROW EXECUTE FUNCTION ledger_append_only()""",
        ],
        "drop": [
            "DROP TRIGGER IF EXISTS ledger_append_only ON ledger_entries",
            "DROP FUNCTION IF EXISTS ledger_append_only()",
        ],
    },
    "sqlite": {
        "create": [
            """CREATE TRIGGER ledger_no_update BEFORE UPDATE ON ledger_entries
            BEGIN SELECT RAISE(ABORT, 'ledger_entries is append-only: add a reversal or payout entry instead'); END""",
            """CREATE TRIGGER ledger_no_delete BEFORE DELETE ON ledger_entries
            BEGIN SELECT RAISE(ABORT, 'ledger_entries is append-only: add a reversal or payout entry instead'); END""",
        ],
        "drop": ["DROP TRIGGER IF EXISTS ledger_no_update", "DROP TRIGGER IF EXISTS ledger_no_delete"],
    },
}


def attach(table: Table) -> None:
    for dialect, statements in GUARD_DDL.items():
        for statement in statements["create"]:
            event.listen(table, "after_create", DDL(statement).execute_if(dialect=dialect))
