"""PII encryption: AES-GCM with key ids, context binding, blind indexes, rotation."""

import base64
import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.access.pii import PiiCipher, PiiError, generate_key, mask
from core.access.pii_rotation import key_usage, rotate
from core.users.service import Users
from core.users.testing import FAST_HASHING, make_user

K1, K2, INDEX = generate_key(), generate_key(), generate_key()


def cipher(active="k1"):
    keys = {"k1": base64.b64decode(K1), "k2": base64.b64decode(K2)}
    return PiiCipher(keys, active, base64.b64decode(INDEX))


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=200), st.sampled_from(["t.a", "t.b"]))
def test_round_trip(text, context):
    c = cipher()
    blob = c.encrypt(text, context=context)
    assert c.decrypt(blob, context=context) == text
    assert c.key_id_of(blob) == "k1"
    assert c.encrypt(text, context=context) != blob, "a fresh nonce every time"


def test_context_and_key_are_bound():
    c = cipher()
    blob = c.encrypt("4510 123456", context="users_users.passport_enc")
    with pytest.raises(PiiError, match="does not decrypt"):
        c.decrypt(blob, context="users_users.itn_enc")
    tampered = bytearray(blob)
    tampered[-1] ^= 1
    with pytest.raises(PiiError):
        c.decrypt(bytes(tampered), context="users_users.passport_enc")
    other = PiiCipher({"k9": os.urandom(32)}, "k9", os.urandom(32))
    with pytest.raises(PiiError, match="not configured"):
        other.decrypt(blob, context="users_users.passport_enc")
    with pytest.raises(PiiError):
        c.decrypt(b"\x02junk", context="x")


def test_blind_index_is_keyed_and_exact():
    c = cipher()
    assert c.blind_index("+79991234567", context="p") == c.blind_index("+79991234567", context="p")
    assert c.blind_index("+79991234567", context="p") != c.blind_index("+79991234568", context="p")
    assert c.blind_index("+79991234567", context="p") != c.blind_index("+79991234567", context="q")
    other = PiiCipher({"k1": os.urandom(32)}, "k1", os.urandom(32))
    assert other.blind_index("+79991234567", context="p") != c.blind_index("+79991234567", context="p")


def test_configuration_mistakes_are_caught():
    with pytest.raises(ValueError, match="active PII key"):
        PiiCipher({"k1": os.urandom(32)}, "k2", os.urandom(32))
    assert mask("+79991234567") == "+7••••••••67" and mask("anna@example.com") == "a•••@example.com"


async def test_rotation_re_encrypts_every_field(make_platform):
    keys = {"pii_keys": {"k1": K1}, "blind_index_key": INDEX}
    old = await make_platform(settings={**FAST_HASHING, "core.access": keys})
    user = await make_user(old, "+7 999 000 11 22")
    await old.service(Users).set_personal_data(user.id, itn="500100732259", passport="4510 123456")
    rotated_settings = {"pii_keys": {"k1": K1, "k2": K2}, "pii_active_key": "k2", "blind_index_key": INDEX}
    new = await make_platform(settings={**FAST_HASHING, "core.access": rotated_settings})
    before = {r.field: r.by_key for r in await key_usage(new)}
    assert before["users_users.phone_enc"] == {"k1": 1}
    reports = await rotate(new, batch=1)
    assert sum(r.rotated for r in reports) >= 3
    after = {r.field: r.by_key for r in await key_usage(new)}
    assert all(set(usage) <= {"k2"} for usage in after.values()), after
    fresh = await new.service(Users).get(user.id)
    assert fresh.phone == "+79990001122"
    assert (await new.service(Users).personal_data(user.id)).passport == "4510 123456"
    assert (await new.service(Users).find("+79990001122")).id == user.id, (
        "blind indexes survive a key rotation"
    )
    assert sum(r.rotated for r in await rotate(new)) == 0, "a second run has nothing to do"
