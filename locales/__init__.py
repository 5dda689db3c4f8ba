"""The bot's texts (Project Fluent, one folder per locale). A package only so that a wheel carries
the .ftl files next to `bot`, where bot/i18n.py looks for them."""
