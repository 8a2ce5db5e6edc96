"""The grimnir profile reads a token's claims as the real server does: golang-jwt v5.3.0 decoding the
payload with encoding/json into ``auth.Claims`` (internal/auth/jwt.go:19-56), then checking ``exp`` and
``nbf`` only (validator.go:92-124, :171-224)."""

import json

import jwt
import pytest

from server.auth import ALGORITHM
from server.rest import go_jwt
from server.rest.go_routes import GoClaims, jwt_claims
from tests.server_support import KEY

NOW = 1_800_000_000


def signed(claims: dict | str) -> str:
    """A token of these claims, or of this raw JSON payload (PyJWT's encode refuses some on purpose)."""
    payload = claims if isinstance(claims, str) else json.dumps(claims)
    return jwt.api_jws.encode(payload.encode(), KEY.secret, algorithm=ALGORITHM)


@pytest.mark.parametrize(
    ("claims", "uid", "roles", "station_id"),
    [
        pytest.param(
            {"uid": None, "roles": None, "station_id": None}, "", (), "", id="nulls leave fields empty"
        ),
        pytest.param({"uid": "u", "exp": None}, "u", (), "", id="a null exp is no exp"),
        pytest.param(
            {"uid": "u", "roles": ["admin", None]}, "u", ("admin", ""), "", id="a null role is empty"
        ),
        pytest.param({"UID": "a", "uid": "b"}, "b", (), "", id="case-insensitive, the last key wins"),
        pytest.param({"uid": "b", "Uid": "a"}, "a", (), "", id="the last key wins whatever its case"),
        pytest.param({"uid": "u", "iat": "12"}, "u", (), "", id="a time in a string that is a number"),
        pytest.param(
            {"uid": "u", "aud": ["x", "y"], "iat": NOW + 3600}, "u", (), "", id="aud and iat unchecked"
        ),
        pytest.param({"uid": "u", "exp": NOW + 1}, "u", (), "", id="exp is after now"),
        pytest.param({"uid": "u", "nbf": NOW}, "u", (), "", id="nbf is now"),
        pytest.param({"uid": "u", "sub": None, "jti": None, "iss": None}, "u", (), "", id="null strings"),
    ],
)
def test_what_encoding_json_accepts(claims, uid, roles, station_id):
    assert go_jwt.decode(KEY, signed(claims), now=NOW) == go_jwt.TokenClaims(uid, roles, station_id)


@pytest.mark.parametrize(
    "claims",
    [
        pytest.param({"uid": 5}, id="uid a number"),
        pytest.param({"roles": "admin"}, id="roles a string"),
        pytest.param({"roles": ["admin", 5]}, id="a role a number"),
        pytest.param({"station_id": True}, id="station_id a boolean"),
        pytest.param({"aud": 5}, id="aud a number"),
        pytest.param({"aud": ["x", None]}, id="aud with a null"),
        pytest.param({"iat": "abc"}, id="iat a word"),
        pytest.param({"iat": True}, id="iat a boolean"),
        pytest.param({"nbf": [1]}, id="nbf an array"),
        pytest.param('{"exp": 1e400}', id="exp out of range"),
        pytest.param({"exp": NOW + 0.9}, id="exp in the second of now (whole seconds)"),
        pytest.param({"exp": 10**400}, id="exp an integer out of range"),
        pytest.param({"sub": 7}, id="sub a number"),
        pytest.param({"exp": NOW}, id="exp is now"),
        pytest.param({"EXP": NOW - 1}, id="an expired EXP in capitals"),
        pytest.param({"exp": str(NOW - 1)}, id="an expired exp in a string"),
        pytest.param({"nbf": NOW + 1}, id="not valid yet"),
    ],
)
def test_what_fails_the_whole_token(claims):
    with pytest.raises(go_jwt.InvalidClaims):
        go_jwt.decode(KEY, signed(claims), now=NOW)


def test_the_gate_normalises_the_roles_of_a_token_it_accepts_and_refuses_a_bad_one():
    assert jwt_claims(KEY, signed({"roles": [" ADMIN ", None]})) == GoClaims("", ("platform_admin", ""), "")
    assert jwt_claims(KEY, signed({"roles": ["admin"], "aud": 5})) is None
    assert (
        jwt_claims(KEY, jwt.encode({"uid": "u"}, "another-signing-key-0123456789abcdef", algorithm=ALGORITHM))
        is None
    )


def _token(header: dict | str, claims: dict, *, key: str = KEY.secret, pad: bool = False) -> str:
    """A token of this header and these claims, signed with HS256 by hand (any header PyJWT would refuse)."""
    import base64
    import hashlib
    import hmac

    def segment(raw: bytes) -> str:
        encoded = base64.urlsafe_b64encode(raw).decode()
        return encoded if pad else encoded.rstrip("=")

    head = segment((header if isinstance(header, str) else json.dumps(header)).encode())
    body = segment(json.dumps(claims).encode())
    signature = hmac.new(key.encode(), f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{segment(signature)}"


def test_the_header_is_checked_as_golang_jwts_parser_checks_it():
    """golang-jwt v5.3.0 parser.go (ParseWithClaims): unpadded base64url segments, a JSON object header
    whose alg names a method, the key function's HS256 check (internal/auth/jwt.go:40-44), the HMAC;
    ``crit``, ``kid`` and ``typ`` are never looked at."""
    claims = {"uid": "u"}
    for header in (
        {"alg": "HS256", "crit": ["x"], "x": 1},
        {"alg": "HS256", "kid": 5},
        {"alg": "HS256", "typ": 7},
        {"alg": "HS256"},
    ):
        assert go_jwt.decode(KEY, _token(header, claims), now=NOW).uid == "u", header
    for token in (
        _token({"alg": "none"}, claims),
        _token({"alg": "HS384"}, claims),
        _token({"alg": 5}, claims),
        _token("[1]", claims),
        _token({"alg": "HS256"}, claims, key="another-signing-key-0123456789abcdef"),
        _token({"alg": "HS256", "typ": "JWT"}, claims, pad=True),  # '=' padding: not RawURLEncoding
        _token({"alg": "HS256"}, claims) + ".x",
        _token({"alg": "HS256"}, claims).rsplit(".", 1)[0],
    ):
        with pytest.raises(go_jwt.InvalidClaims):
            go_jwt.decode(KEY, token, now=NOW)
