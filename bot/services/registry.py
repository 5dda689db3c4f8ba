"""Every service a handler can use during one update, built on that update's unit of work."""
from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from bot.services.audit import AuditLog
from bot.services.binding import BindingService
from bot.services.codes import CodeService
from bot.services.fraud.signals import FraudLimits
from bot.services.groups import GroupService
from bot.services.invites import InvitesService
from bot.services.leaderboard import Leaderboard
from bot.services.rewards.overview import RewardsView
from bot.services.stations import StationService
from bot.services.users import UserService

if TYPE_CHECKING:
    from bot.app import App
    from db.uow import UnitOfWork


class Services:
    """What a handler can ask of the program during one update."""

    def __init__(self, app: "App", uow: "UnitOfWork") -> None:
        settings = app.settings
        self.uow = uow
        self.users = UserService(uow, app.clock, frozenset(settings.admin_ids))
        self.codes = CodeService(uow, app.clock)
        self.binding = BindingService(uow, app.clock, settings.referral_levels, FraudLimits.from_settings(settings))
        self.invites = InvitesService(uow, settings.referral_levels)
        self.rewards = RewardsView(uow, app.programs, settings.tz)
        self.programs = app.programs
        self.audit = AuditLog(uow, app.clock)
        self.groups = GroupService(uow, app.clock)
        self.leaderboard = Leaderboard(uow, app.clock, timedelta(hours=settings.group_min_stay_hours), settings.tz)
        self.stations = StationService(uow, app.clock, self.audit)
