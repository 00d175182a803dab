from sqlalchemy import Boolean, Integer, String, false
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .types import UTCDateTime

ROLES = ('village_assistant', 'township_caseworker', 'township_leader', 'county_verifier',
         'county_supervisor', 'designer', 'admin', 'disability_federation')
COUNTY = 'county'


class User(db.Model):
    __tablename__ = 'app_user'

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    password_hash: Mapped[str] = mapped_column(String(300))
    role: Mapped[str] = mapped_column(String(50))
    township: Mapped[str] = mapped_column(String(50))  # a township code, or 'county'
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at = mapped_column(UTCDateTime)
    # Set when the password must be replaced before anything else (a demo or temporary password);
    # the pages send the user to /password, the API answers 403 password_change_required.
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    @property
    def is_county(self):
        return self.township == COUNTY
