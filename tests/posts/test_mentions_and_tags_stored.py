"""A new post records whom it mentions and, when public, its tags; nothing for unknown names."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from chirp.posts import service as posts_service
from chirp.posts.models import Mention, Post
from chirp.tags.models import PostTag, Tag
from tests.factories import make_user


async def _mentioned(session: AsyncSession, post_id: int) -> set[int]:
    rows = await session.execute(select(Mention.user_id).where(Mention.post_id == post_id))
    return set(rows.scalars())


async def _tagged(session: AsyncSession, post_id: int) -> set[str]:
    rows = await session.execute(
        select(Tag.name_key)
        .join(PostTag, PostTag.tag_id == Tag.id)
        .where(PostTag.post_id == post_id)
    )
    return set(rows.scalars())


async def test_mentions_of_existing_accounts_are_recorded_in_order(session: AsyncSession) -> None:
    ann = await make_user(session, "ann")
    bob = await make_user(session, "Bob")
    cat = await make_user(session, "cat")
    post = await posts_service.create_post(
        session,
        author=ann,
        text="@cat and @BOB, not @nobody nor bob@example.com; @cat again, and me @ann",
        max_length=500,
    )
    await session.commit()
    # Usernames as registered, each once, in order of first mention; self-mentions count.
    assert post.mentions == [[cat.id, "cat"], [bob.id, "Bob"], [ann.id, "ann"]]
    assert await _mentioned(session, post.id) == {cat.id, bob.id, ann.id}
    stored = await session.get(Post, post.id, populate_existing=True)
    assert stored is not None and stored.mentions == post.mentions


async def test_a_post_mentioning_nobody_stores_no_mentions(session: AsyncSession) -> None:
    ann = await make_user(session, "ann")
    post = await posts_service.create_post(session, author=ann, text="@ghost hi", max_length=500)
    await session.commit()
    assert post.mentions is None
    assert await _mentioned(session, post.id) == set()


async def test_public_posts_record_tags_once_per_spelling(session: AsyncSession) -> None:
    ann = await make_user(session, "ann")
    bob = await make_user(session, "bob")
    first = await posts_service.create_post(
        session, author=ann, text="#Python and #python and #Rust", max_length=500
    )
    second = await posts_service.create_post(
        session, author=bob, text="#PYTHON again", max_length=500
    )
    await session.commit()
    assert await _tagged(session, first.id) == {"python", "rust"}
    assert await _tagged(session, second.id) == {"python"}
    # One tag per case-folded name, shown as first written.
    tags = (await session.execute(select(Tag.name, Tag.name_key).order_by(Tag.name_key))).all()
    assert [tuple(t) for t in tags] == [("Python", "python"), ("Rust", "rust")]
    uses = await session.execute(select(PostTag.author_id).order_by(PostTag.post_id))
    assert list(uses.scalars()) == [ann.id, ann.id, bob.id]


async def test_unlisted_and_followers_only_posts_are_not_on_tag_pages(
    session: AsyncSession,
) -> None:
    ann = await make_user(session, "ann")
    for visibility in ("unlisted", "private"):
        post = await posts_service.create_post(
            session, author=ann, text="#secret", max_length=500, visibility=visibility
        )
        await session.commit()
        assert await _tagged(session, post.id) == set()


async def test_deleting_a_post_removes_its_mentions_and_tag_uses(session: AsyncSession) -> None:
    ann = await make_user(session, "ann")
    bob = await make_user(session, "bob")
    post = await posts_service.create_post(session, author=ann, text="@bob #gone", max_length=500)
    await session.commit()
    await posts_service.delete_post(session, post=post, actor=ann)
    await session.commit()
    assert await _mentioned(session, post.id) == set()
    assert await _tagged(session, post.id) == set()
    assert bob.id  # the account itself stays
