"""Request and response bodies of the account API."""

from __future__ import annotations

from typing import Annotated

import msgspec

from consent.base.text import MAX_EMAIL, MAX_NAME, Email

# A person's name is kept as typed (trimmed), so its limit holds on the wire (400), not after
# whitespace is collapsed as for a circle's name.
AccountName = Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_NAME)]
Password = Annotated[str, msgspec.Meta(min_length=8, max_length=1000)]


class SignUp(msgspec.Struct, forbid_unknown_fields=True):
    name: AccountName
    email: Email
    password: Password


class SignIn(msgspec.Struct, forbid_unknown_fields=True):
    email: Annotated[str, msgspec.Meta(max_length=MAX_EMAIL)]  # any text: a wrong one is wrong credentials
    password: Annotated[str, msgspec.Meta(max_length=1000)]


class AccountOut(msgspec.Struct):
    id: str
    name: str
    email: str


class SignedIn(msgspec.Struct):
    token: str
    account: AccountOut


class Erasure(msgspec.Struct, forbid_unknown_fields=True):
    """The account's password again: a signed-in device alone cannot erase the account."""

    password: Annotated[str, msgspec.Meta(max_length=1000)]
