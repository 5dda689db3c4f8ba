"""The program, free of Telegram: one service per concept, built per unit of work.

The package imports nothing itself, so an operator command that needs one
service (`referral-bot user` needs the profile) does not load them all;
`bot.services.registry.Services` bundles them for a handler.
"""
