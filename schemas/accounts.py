"""Wire shapes of sign-in, tokens, users and memberships."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from schemas.common import Out

ROLES = ("admin", "manager", "ranger", "partner", "investigator")
USERNAME = validate.Regexp(
    r"^[a-z0-9][a-z0-9._-]{1,62}$",
    error="2-63 characters: lower-case letters, digits, '.', '_' or '-', "
    "starting with a letter or digit",
)


class TokenRequest(Schema):
    username = fields.String(required=True, validate=validate.Length(min=1, max=63))
    password = fields.String(required=True, validate=validate.Length(min=1, max=1024))


class TokenOut(Out):
    access_token = fields.String(required=True)
    token_type = fields.Constant("Bearer")
    expires_at = fields.DateTime(required=True)


class MembershipOut(Out):
    area_id = fields.UUID(required=True)
    area_slug = fields.String(required=True)
    role = fields.String(required=True)


class UserOut(Out):
    id = fields.UUID(required=True)
    username = fields.String(required=True)
    display_name = fields.String(required=True)
    is_superuser = fields.Boolean()
    disabled = fields.Boolean()
    memberships = fields.List(fields.Nested(MembershipOut))


class UserCreate(Schema):
    username = fields.String(required=True, validate=USERNAME)
    display_name = fields.String(validate=validate.Length(min=1, max=200))
    password = fields.String(
        required=True,
        load_only=True,
        validate=validate.Length(max=1024),
        metadata={"description": "at least 10 characters, not a common password"},
    )
    role = fields.String(required=True, validate=validate.OneOf(ROLES))


class MemberOut(Out):
    user_id = fields.UUID(required=True)
    username = fields.String(required=True)
    display_name = fields.String(required=True)
    role = fields.String(required=True)
    disabled = fields.Boolean()


class RoleChange(Schema):
    role = fields.String(required=True, validate=validate.OneOf(ROLES))
