"""API parameters of the account lifecycle endpoints."""

from __future__ import annotations

from pydantic import BaseModel

from chirp.parsing import ShortText


class EmailConfirmationIn(BaseModel):
    """Parameters of ``POST /api/v1/emails/confirmations``."""

    # A corrected address: the unconfirmed account's email is changed before sending.
    email: ShortText | None = None
