"""The personal links that mails carry: sign-in links and action links, as HMACs.

A link's token is an HMAC-SHA256, under the web secret, of what it stands for:
    sign-in  "signin:<row id>:<salt>"          (the row says whose, until when, and if used)
    action   "action:<person id>:<task id>"    (one person, one item)
so the dispatcher can write a link into a mail at render time without the database ever holding
the token: the database keeps `digest(token)` only, and a copy of it signs nobody in. An action
link is the same string every time it is written, so a later reminder never invalidates the
link an earlier one carried. Nothing here reads the clock or the database.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass


def digest(token: str) -> str:
    """What the database keeps of a token."""
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


def _mac(secret: bytes, message: str) -> str:
    raw = hmac.new(secret, message.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@dataclass(frozen=True)
class Links:
    secret: bytes
    base_url: str  # without the trailing slash, e.g. https://nckh.soyte.example

    def signin_token(self, row_id: int, salt: str) -> str:
        return _mac(self.secret, f"signin:{row_id}:{salt}")

    def action_token(self, person_id: int, task_id: int) -> str:
        return _mac(self.secret, f"action:{person_id}:{task_id}")

    def signin_url(self, row_id: int, salt: str) -> str:
        return f"{self.base_url}/dang-nhap/{row_id}/{self.signin_token(row_id, salt)}"

    def action_url(self, person_id: int, task_id: int) -> str:
        return f"{self.base_url}/lien-ket/{person_id}-{task_id}/" \
               f"{self.action_token(person_id, task_id)}"

    def matches(self, expected: str, given: str) -> bool:
        """Constant-time comparison of a token as derived with one as presented."""
        return hmac.compare_digest(expected.encode(), given.encode("ascii", "replace"))
