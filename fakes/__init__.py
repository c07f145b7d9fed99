"""Test doubles: a fake Telegram Bot API server, scripted people and the demo's script.

Used by the tests, the benchmarks and `python -m bot demo`, and installed with the
product for the demo's sake. The product (bot/, handlers/, storage/, rules/) never
imports this package at module level: only the `demo` command of `bot/cli.py` does,
inside the command (`tests/test_imports.py` checks it).
"""
