"""Request and response bodies of the account API."""

from __future__ import annotations

from typing import Annotated

import msgspec

Name = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
Email = Annotated[str, msgspec.Meta(min_length=3, max_length=254, pattern=r"^\s*[^@\s]+@[^@\s]+\.[^@\s]+\s*$")]
Password = Annotated[str, msgspec.Meta(min_length=8, max_length=1000)]


class SignUp(msgspec.Struct, forbid_unknown_fields=True):
    name: Name
    email: Email
    password: Password


class SignIn(msgspec.Struct, forbid_unknown_fields=True):
    email: Annotated[str, msgspec.Meta(max_length=254)]
    password: Annotated[str, msgspec.Meta(max_length=1000)]


class AccountOut(msgspec.Struct):
    id: str
    name: str
    email: str


class SignedIn(msgspec.Struct):
    token: str
    account: AccountOut
