"""What a report or an export covers: records created between two London dates, optionally one district
and one source."""
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from tts.clock import london_midnight


@dataclass
class Filters:
    date_from: date
    date_to: date
    district: str | None = None
    source: str | None = None  # local, national_referral, api

    @property
    def start(self) -> datetime:
        return london_midnight(self.date_from)

    @property
    def end(self) -> datetime:
        return london_midnight(self.date_to + timedelta(days=1))
