"""The real Mastodon.py client library against a running Chirp."""

from __future__ import annotations

import pytest
from mastodon import Mastodon, MastodonAPIError

from tests.factories import PASSWORD
from tests.live import LiveServer
from tests.loops import at_most

SCOPES = ["read", "write", "follow"]


def _client(live: LiveServer) -> Mastodon:
    client_id, client_secret = Mastodon.create_app(
        "Chirp tests", scopes=SCOPES, api_base_url=live.url
    )
    return Mastodon(client_id=client_id, client_secret=client_secret, api_base_url=live.url)


def test_mastodon_py_end_to_end(live_server: LiveServer) -> None:
    registrar = _client(live_server)
    for name in ("masto_alice", "masto_bob"):
        registrar.create_account(
            name, PASSWORD, f"{name}@example.com", agreement=True, locale="en", scopes=SCOPES
        )

    # Mastodon.py reads /.well-known/oauth-authorization-server and logs in at the token
    # endpoint it names; that one is plain http here, which a client must allow explicitly.
    alice = _client(live_server)
    alice.log_in(username="masto_alice", password=PASSWORD, scopes=SCOPES, allow_http=True)
    bob = _client(live_server)
    bob.log_in(username="masto_bob@example.com", password=PASSWORD, scopes=SCOPES, allow_http=True)
    assert alice.account_verify_credentials()["username"] == "masto_alice"

    bob_posts = [bob.status_post(f"bob says {i}")["id"] for i in range(15)]
    alice_account = alice.account_lookup("masto_bob")
    relationship = alice.account_follow(alice_account["id"])
    assert relationship["following"] is True
    alice_posts = [alice.status_post(f"alice says {i}")["id"] for i in range(12)]

    expected = sorted([*bob_posts, *alice_posts], reverse=True)
    page = alice.timeline_home(limit=10)
    seen = [s["id"] for s in page]
    for _ in at_most(10):
        page = alice.fetch_next(page)
        if not page:
            break
        seen += [s["id"] for s in page]
    assert seen == expected
    assert len(set(seen)) == len(seen) == 27

    # A reblog is a status of its own (its own id), the original inside; undoing it returns
    # the original. It reaches bob's followers' home timelines (alice's, here).
    shared = bob.status_post("bob, worth sharing")
    wrapper = alice.status_reblog(shared["id"])
    assert wrapper["id"] != shared["id"] and wrapper["reblog"]["id"] == shared["id"]
    assert wrapper["reblogged"] is True and wrapper["reblog"]["reblogs_count"] == 1
    assert [a["username"] for a in bob.status_reblogged_by(shared["id"])] == ["masto_alice"]
    assert alice.status_reblog(shared["id"])["id"] == wrapper["id"]  # once
    original = alice.status_unreblog(shared["id"])
    assert original["id"] == shared["id"]
    assert original["reblogged"] is False and original["reblogs_count"] == 0
    assert bob.status_reblogged_by(shared["id"]) == []
    quote = alice.status_post("well said", quoted_status_id=shared["id"])
    assert quote["quote"]["state"] == "accepted"
    assert quote["quote"]["quoted_status"]["id"] == shared["id"]
    assert bob.status(shared["id"])["quotes_count"] == 1

    with pytest.raises(MastodonAPIError) as too_long:
        alice.status_post("x" * 141)
    assert "too long" in str(too_long.value)
    instance = alice.instance()
    assert instance["configuration"]["statuses"]["max_characters"] == 140
