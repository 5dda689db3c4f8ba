"""The reward program: rules (program.py), one module per kind of reward, and the ledger."""
