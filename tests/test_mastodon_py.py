"""The real Mastodon.py client library against a running Chirp."""

from __future__ import annotations

import io
import queue
import time
from collections.abc import Iterator

import httpx
import pytest
from mastodon import Mastodon, MastodonAPIError, StreamListener
from PIL import Image

from tests.factories import PASSWORD
from tests.live import LiveServer
from tests.live import live as live_with
from tests.loops import at_most


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def live_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """The module's server; each test signs up and logs in its own accounts from one IP,
    and all of them call the API from it: more than the sign-up, login and per-IP API limits
    let one IP do in their windows (Mastodon.py would wait out a 429, past the test's time)."""
    with live_with(
        request.param,
        tmp_path_factory,
        rate_limit_signup="100/30 minutes",
        rate_limit_signup_attempts="500/5 minutes",
        rate_limit_login_ip="500/5 minutes",
        rate_limit_api="5000/5 minutes",
    ) as server:
        yield server


SCOPES = ["read", "write", "follow"]


def _client(live: LiveServer) -> Mastodon:
    client_id, client_secret = Mastodon.create_app(
        "Chirp tests", scopes=SCOPES, api_base_url=live.url
    )
    return Mastodon(client_id=client_id, client_secret=client_secret, api_base_url=live.url)


def _signed_in(live: LiveServer, *names: str) -> list[Mastodon]:
    """Sign up each of ``names`` and log each in through Mastodon.py, in order."""
    registrar = _client(live)
    clients = []
    for name in names:
        registrar.create_account(
            name, PASSWORD, f"{name}@example.com", agreement=True, locale="en", scopes=SCOPES
        )
        clients.append(_client(live))
        clients[-1].log_in(username=name, password=PASSWORD, scopes=SCOPES, allow_http=True)
    return clients


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


def test_mastodon_py_replies_and_context(live_server: LiveServer) -> None:
    ann, ben = _signed_in(live_server, "masto_ann", "masto_ben")
    root = ann.status_post("what do you think?")
    # Mastodon.py takes a status (or its id) to answer.
    reply = ben.status_post("@masto_ann yes", in_reply_to_id=root)
    assert reply["in_reply_to_id"] == root["id"]
    assert reply["in_reply_to_account_id"] == root["account"]["id"]
    again = ann.status_reply(reply, "glad to hear")  # Mastodon.py's own helper
    assert again["in_reply_to_id"] == reply["id"]
    assert ann.status(root["id"])["replies_count"] == 1
    context = ben.status_context(reply["id"])
    assert [s["id"] for s in context["ancestors"]] == [root["id"]]
    assert [s["id"] for s in context["descendants"]] == [again["id"]]
    top = ann.status_context(root)
    assert [s["id"] for s in top["descendants"]] == [reply["id"], again["id"]]
    with pytest.raises(MastodonAPIError) as missing:
        ben.status_post("to nothing", in_reply_to_id=1)
    assert "does not appear to exist" in str(missing.value)


def test_mastodon_py_favourites(live_server: LiveServer) -> None:
    fan, star = _signed_in(live_server, "masto_fan", "masto_star")

    posts = [star.status_post(f"star says {i}")["id"] for i in range(7)]
    liked_order = [posts[i] for i in (3, 0, 6, 1, 5, 2)]  # not the posts' own order
    for post_id in liked_order:
        status = fan.status_favourite(post_id)
        assert status["favourited"] is True and status["favourites_count"] == 1
    # Idempotent: liking again changes nothing.
    assert fan.status_favourite(liked_order[0])["favourites_count"] == 1

    # favourites() pages by when each was liked, along the Link headers Mastodon.py follows.
    page = fan.favourites(limit=4)
    seen = [s["id"] for s in page]
    for _ in at_most(5):
        page = fan.fetch_next(page)
        if not page:
            break
        seen += [s["id"] for s in page]
    assert seen == list(reversed(liked_order))

    assert [a["acct"] for a in star.status_favourited_by(liked_order[0])] == ["masto_fan"]
    undone = fan.status_unfavourite(liked_order[0])
    assert undone["favourited"] is False and undone["favourites_count"] == 0
    assert fan.status_unfavourite(liked_order[0])["favourites_count"] == 0
    assert [s["id"] for s in fan.favourites()] == list(reversed(liked_order[1:]))
    assert star.status(posts[4])["favourited"] is False


def test_mastodon_py_profile_and_preferences(live_server: LiveServer) -> None:
    owner, reader = _signed_in(live_server, "masto_owner", "masto_reader")
    site = "https://owner.example/"
    me = owner.account_update_credentials(
        display_name="The Owner",
        note="Hi @masto_reader #birds",
        fields=[("Site", site), ("Pronouns", "they/them")],
        locked=True,
        default_privacy="unlisted",
        default_sensitive=True,
    )
    assert me["display_name"] == "The Owner" and me["locked"] is True
    assert [f["name"] for f in me["fields"]] == ["Site", "Pronouns"]
    assert 'rel="me nofollow noopener"' in me["fields"][0]["value"]
    assert me["source"]["note"] == "Hi @masto_reader #birds"
    assert [(f["name"], f["value"]) for f in me["source"]["fields"]] == [
        ("Site", site),
        ("Pronouns", "they/them"),
    ]
    assert (me["source"]["privacy"], me["source"]["sensitive"]) == ("unlisted", True)
    assert "/@masto_reader" in me["note"] and "/tags/birds" in me["note"]
    # Mastodon.py parses the preferences' colon keys.
    prefs = owner.preferences()
    assert prefs["posting:default:visibility"] == "unlisted"
    assert prefs["posting:default:sensitive"] is True
    assert prefs["reading:expand:spoilers"] is False
    # Readers see the edit at once, on the account and on its posts.
    owner.status_post("edited profile")
    seen = reader.account(me["id"])
    assert (seen["display_name"], seen["locked"]) == ("The Owner", True)
    [post] = reader.account_statuses(me["id"])
    assert post["account"]["display_name"] == "The Owner"


def test_mastodon_py_mentions_and_hashtag_timeline(live_server: LiveServer) -> None:
    tia, tom = _signed_in(live_server, "masto_tia", "masto_tom")

    said = tia.status_post("hello @MASTO_TOM and @nobody_here #ChirpTest #Café")
    tom_account = tia.account_lookup("masto_tom")
    assert [(m["id"], m["username"], m["acct"]) for m in said["mentions"]] == [
        (tom_account["id"], "masto_tom", "masto_tom")
    ]
    assert said["mentions"][0]["url"] == tom_account["url"]
    assert [t["name"] for t in said["tags"]] == ["ChirpTest", "Café"]
    assert f'href="{tom_account["url"]}" class="u-url mention"' in said["content"]
    assert "@nobody_here" in said["content"]

    posted = [said["id"]]
    for i in range(4):
        posted.append(tom.status_post(f"#chirptest number {i}")["id"])
    tom.status_post("#chirptest but unlisted", visibility="unlisted")
    # Paged along the Link headers Mastodon.py follows, in any case, newest first.
    page = tom.timeline_hashtag("CHIRPTEST", limit=2)
    seen = [s["id"] for s in page]
    for _ in at_most(5):
        page = tom.fetch_next(page)
        if not page:
            break
        seen += [s["id"] for s in page]
    assert seen == list(reversed(posted))
    assert [s["id"] for s in tia.timeline_hashtag("café")] == [said["id"]]
    assert tia.timeline_hashtag("chirptest", remote=True) == []


def test_mastodon_py_direct_messages(live_server: LiveServer) -> None:
    dee, eve, fay = _signed_in(live_server, "masto_dee", "masto_eve", "masto_fay")
    fay.account_follow(fay.account_lookup("masto_dee")["id"])  # a follower, not mentioned
    dm = dee.status_post("@masto_eve just us", visibility="direct")
    assert dm["visibility"] == "direct"
    listed = eve.conversations()
    assert [c["last_status"]["id"] for c in listed] == [dm["id"]]
    assert listed[0]["unread"] is True
    assert [a["acct"] for a in listed[0]["accounts"]] == ["masto_dee"]
    assert eve.conversations_read(listed[0]["id"])["unread"] is False
    answer = eve.status_reply(dm, "sure")  # names dee and keeps the visibility, as Mastodon.py does
    assert answer["visibility"] == "direct"
    assert [c["last_status"]["id"] for c in dee.conversations()] == [answer["id"]]
    assert fay.conversations() == []
    assert dm["id"] not in [s["id"] for s in fay.timeline_home()]
    with pytest.raises(MastodonAPIError):
        fay.status(dm["id"])


def test_mastodon_py_notifications_and_markers(live_server: LiveServer) -> None:
    nia, ned, nod = _signed_in(live_server, "masto_nia", "masto_ned", "masto_nod")
    nia_id = nia.account_verify_credentials()["id"]
    post = nia.status_post("notice me")
    ned.account_follow(nia_id)
    nod.account_follow(nia_id)
    mention = ned.status_post("@masto_nia hello there")
    for fan in (ned, nod):
        fan.status_favourite(post["id"])

    # Notifications are made by background jobs: wait (bounded) until all five are there.
    deadline = time.monotonic() + 10
    while len(found := nia.notifications()) < 5 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [(n["type"], n["account"]["acct"]) for n in found] == [
        ("favourite", "masto_nod"),
        ("favourite", "masto_ned"),
        ("mention", "masto_ned"),
        ("follow", "masto_nod"),
        ("follow", "masto_ned"),
    ]
    [mentioned] = nia.notifications(types=["mention"])
    assert mentioned["status"]["id"] == mention["id"]
    assert [n["type"] for n in nia.notifications(exclude_types=["favourite", "follow"])] == [
        "mention"
    ]
    assert nia.notifications(id=mentioned["id"])["id"] == mentioned["id"]
    assert ned.notifications() == []  # nia's are not ned's

    grouped = nia.grouped_notifications()  # partial_avatars, Mastodon.py's default
    assert [(g["type"], g["notifications_count"]) for g in grouped["notification_groups"]] == [
        ("favourite", 2),
        ("mention", 1),
        ("follow", 2),
    ]

    # The unread count follows the notifications marker.
    assert nia.notifications_unread_count()["count"] == 5
    markers = nia.markers_set(["notifications"], [found[2]["id"]])
    assert markers["notifications"]["last_read_id"] == found[2]["id"]
    assert nia.notifications_unread_count()["count"] == 2
    assert nia.markers_get("notifications")["notifications"]["last_read_id"] == found[2]["id"]
    home = nia.markers_set("home", post["id"])["home"]
    assert home["last_read_id"] == post["id"] and home["version"] == 0

    nia.notifications_dismiss(found[0]["id"])
    assert len(nia.notifications()) == 4
    nia.notifications_clear()
    assert nia.notifications() == []


def test_mastodon_py_stream_user_receives_an_update(live_server: LiveServer) -> None:
    reader, poster = _signed_in(live_server, "masto_streamer", "masto_poster")
    reader.account_follow(reader.account_lookup("masto_poster")["id"])

    updates: queue.Queue[dict[str, object]] = queue.Queue()

    class Listener(StreamListener):
        def on_update(self, status: dict[str, object]) -> None:
            updates.put(status)

    # Mastodon.py finds the stream through the instance's urls.streaming_api.
    handle = reader.stream_user(Listener(), run_async=True, timeout=30)
    try:
        for _ in at_most(200, "waits for the stream to open"):
            if handle.is_receiving():
                break
            time.sleep(0.05)
        assert handle.is_receiving()
        posted = poster.status_post("streamed to my followers")
        received = updates.get(timeout=15)
        assert received["id"] == posted["id"]
        assert "streamed to my followers" in str(received["content"])
    finally:
        handle.close()


def test_mastodon_py_media_upload_post_and_describe(live_server: LiveServer) -> None:
    (pia,) = _signed_in(live_server, "masto_pia")
    out = io.BytesIO()
    Image.new("RGB", (640, 480), (10, 120, 200)).save(out, "JPEG")
    media = pia.media_post(out.getvalue(), mime_type="image/jpeg", description="A blue square")
    assert media["type"] == "image" and media["url"] and media["description"] == "A blue square"
    assert media["meta"]["original"]["width"] == 640
    posted = pia.status_post("with a picture", media_ids=[media])
    assert [m["id"] for m in posted["media_attachments"]] == [media["id"]]
    updated = pia.media_update(media, description="A blue rectangle", focus=(0.5, 0.5))
    assert updated["description"] == "A blue rectangle"
    assert updated["meta"]["focus"] == {"x": 0.5, "y": 0.5}
    shown = pia.status(posted["id"])
    assert shown["media_attachments"][0]["description"] == "A blue rectangle"
    only = pia.account_statuses(pia.me()["id"], only_media=True)
    assert [s["id"] for s in only] == [posted["id"]]
    with pytest.raises(MastodonAPIError):
        pia.media_post(b"not an image", mime_type="image/png")


def test_mastodon_py_sets_an_avatar_and_a_header(live_server: LiveServer) -> None:
    (uma,) = _signed_in(live_server, "masto_uma")
    pictures = {}
    for name, size in (("avatar", (300, 200)), ("header", (900, 900))):
        out = io.BytesIO()
        Image.new("RGB", size, (200, 40, 90)).save(out, "PNG")
        out.seek(0)
        pictures[name] = out
    me = uma.account_update_credentials(
        avatar=pictures["avatar"],
        avatar_mime_type="image/png",
        header=pictures["header"],
        header_mime_type="image/png",
    )
    # Another client sees them, served by this server, cropped as Mastodon crops them.
    (vic,) = _signed_in(live_server, "masto_vic")
    seen = vic.account(me["id"])
    for name, size in (("avatar", (400, 400)), ("header", (1500, 500))):
        assert seen[name] == me[name] and seen[name].startswith(live_server.url), seen[name]
        image = httpx.get(seen[name], timeout=10)
        assert image.status_code == 200
        assert Image.open(io.BytesIO(image.content)).size == size
