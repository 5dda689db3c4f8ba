"""Benchmarks of the referral bot: `python -m bench --help`. Not tests: they print figures next to targets."""
