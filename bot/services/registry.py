"""Every service a handler can use during one update, built on that update's unit of work."""
from __future__ import annotations

from datetime import timedelta
from functools import cached_property
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
    """What a handler can ask of the program during one update; each service is built at first use."""

    def __init__(self, app: "App", uow: "UnitOfWork") -> None:
        self.app = app
        self.uow = uow
        self.programs = app.programs

    @cached_property
    def users(self) -> UserService:
        return UserService(self.uow, self.app.clock, frozenset(self.app.settings.admin_ids), self.app.user_cache)

    @cached_property
    def codes(self) -> CodeService:
        return CodeService(self.uow, self.app.clock, self.app.code_cache)

    @cached_property
    def binding(self) -> BindingService:
        settings = self.app.settings
        return BindingService(self.uow, self.app.clock, settings.referral_levels, FraudLimits.from_settings(settings),
                              codes=self.codes)

    @cached_property
    def invites(self) -> InvitesService:
        return InvitesService(self.uow, self.app.settings.referral_levels)

    @cached_property
    def rewards(self) -> RewardsView:
        return RewardsView(self.uow, self.app.programs, self.app.settings.tz)

    @cached_property
    def audit(self) -> AuditLog:
        return AuditLog(self.uow, self.app.clock)

    @cached_property
    def groups(self) -> GroupService:
        return GroupService(self.uow, self.app.clock)

    @cached_property
    def leaderboard(self) -> Leaderboard:
        settings = self.app.settings
        return Leaderboard(self.uow, self.app.clock, timedelta(hours=settings.group_min_stay_hours), settings.tz)

    @cached_property
    def stations(self) -> StationService:
        return StationService(self.uow, self.app.clock, self.audit)
