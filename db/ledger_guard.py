"""Triggers that make a table append-only, for the migrations and for create_all alike.

The ledger and the audit log are both records of what happened: correcting
one means adding a row, never rewriting history, and the database says so.
"""
from __future__ import annotations

from sqlalchemy import DDL, Table, event


def guard_ddl(table: str, prefix: str, hint: str) -> dict[str, dict[str, list[str]]]:
    message = f"{table} is append-only: {hint}"
    return {
        "postgresql": {
            "create": [
                f"""CREATE OR REPLACE FUNCTION {prefix}_append_only() RETURNS trigger AS $$
            BEGIN RAISE EXCEPTION '{message}'; END;
            $$ LANGUAGE plpgsql""",
                f"""CREATE TRIGGER {prefix}_append_only BEFORE UPDATE OR DELETE ON {table}
            FOR EACH ROW EXECUTE FUNCTION {prefix}_append_only()""",
            ],
            "drop": [
                f"DROP TRIGGER IF EXISTS {prefix}_append_only ON {table}",
                f"DROP FUNCTION IF EXISTS {prefix}_append_only()",
            ],
        },
        "sqlite": {
            "create": [
                f"""CREATE TRIGGER {prefix}_no_update BEFORE UPDATE ON {table}
            BEGIN SELECT RAISE(ABORT, '{message}'); END""",
                f"""CREATE TRIGGER {prefix}_no_delete BEFORE DELETE ON {table}
            BEGIN SELECT RAISE(ABORT, '{message}'); END""",
            ],
            "drop": [f"DROP TRIGGER IF EXISTS {prefix}_no_update", f"DROP TRIGGER IF EXISTS {prefix}_no_delete"],
        },
    }


GUARD_DDL = guard_ddl("ledger_entries", "ledger", "add a reversal or payout entry instead")
AUDIT_GUARD_DDL = guard_ddl("audit_log", "audit", "the audit log is never rewritten")
CHECKPOINT_GUARD_DDL = guard_ddl("ledger_checkpoints", "checkpoint", "write a newer checkpoint instead")
CHECKPOINT_SUMS_GUARD_DDL = guard_ddl("ledger_checkpoint_sums", "checkpoint_sums",
                                      "the sums of a checkpoint are fixed when it is written")


def attach(table: Table, ddl: dict[str, dict[str, list[str]]] = GUARD_DDL) -> None:
    for dialect, statements in ddl.items():
        for statement in statements["create"]:
            event.listen(table, "after_create", DDL(statement).execute_if(dialect=dialect))
