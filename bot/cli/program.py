"""`referral-bot program ...`: (being written)."""
from __future__ import annotations

import typer

program_app = typer.Typer(help="The reward program's versions: publish the next one with notice.", no_args_is_help=True)
