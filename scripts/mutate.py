"""`make mutate`: mutmut over the core modules, each mutant tried against its own domain's tests.

mutmut maps every function to each test that reaches it, so a mutant in the post service
would be run against almost the whole suite (hundreds of tests, minutes per surviving
mutant, days for a full run on a small machine). A module's faults should be caught by the
tests of its own domain; this runs mutmut with each function's tests narrowed to those.
A mutant reported as surviving is one its domain's tests miss, even if a distant test
(an HTML page, say) would notice it by chance.
"""

from __future__ import annotations

import glob
import sys
from typing import Any

import mutmut.__main__ as mutmut_main
from mutmut.state import state

POSTS = (
    "tests/posts/",
    # Direct messages are stored by their own path of the post service.
    "tests/conversations/",
    "tests/api/test_statuses.py",
    "tests/web/test_post_pages.py",
    "tests/web/test_repost_pages.py",
)
PROFILES = (
    "tests/api/test_accounts.py",
    "tests/api/test_parameters.py",
    "tests/web/test_user_pages.py",
    "tests/media/test_api.py",
    "tests/media/test_pages.py",
)
AUTHOR_LISTS = (
    "tests/timeline/test_follow_then_read.py",
    "tests/timeline/test_home_redis.py",
    "tests/timeline/test_recovery_and_celebrities.py",
    "tests/timeline/test_reposts_home.py",
)
TIMELINE = (
    "tests/timeline/",
    "tests/faults/test_timeline_",
    "tests/api/test_timelines.py",
    "tests/web/test_timeline_pages.py",
    # Who sees which post where (replies, visibility, reposts, direct messages) is the
    # timelines' rule, tested with the kind of post it concerns.
    "tests/posts/test_replies.py",
    "tests/posts/test_visibility.py",
    "tests/posts/test_reposts.py",
    "tests/conversations/test_visibility.py",
    # Direct messages stay out of every Redis timeline, their author's too.
    "tests/conversations/test_redis_timeline.py",
)

# Module (or function) prefix -> the test paths (prefixes of pytest node ids) that speak for
# it. The longest prefix that matches a function wins.
FOCUS: dict[str, tuple[str, ...]] = {
    "chirp.pagination": (
        "tests/test_pagination.py",
        "tests/api/test_parameters.py",
        "tests/api/test_input_edges.py",
        "tests/web/test_input_edges.py",
        "tests/test_ids.py",
        "tests/timeline/",
        "tests/follows/",
    ),
    "chirp.parsing": (
        "tests/test_parsing.py",
        "tests/api/test_parameters.py",
        "tests/api/test_input_edges.py",
        "tests/web/test_input_edges.py",
        "tests/test_ids.py",
    ),
    "chirp.timeline": TIMELINE,
    # The timeline's jobs also tell open streams of new, deleted and newly followed posts.
    "chirp.timeline.fanout": (*TIMELINE, "tests/streaming/"),
    # A post's cached copy is dropped when its author changes who may quote it.
    "chirp.timeline.post_cache.xǁPostCacheǁrefresh": (*TIMELINE, "tests/posts/test_quotes.py"),
    "chirp.timeline.home.xǁHomeTimelineǁrefresh_posts": (*TIMELINE, "tests/posts/test_quotes.py"),
    # A follow's options (reblogs, notify) pass through here; their tests are the follow's.
    "chirp.timeline.home.xǁHomeTimelineǁfollow": (
        *TIMELINE,
        "tests/follows/test_follow_options.py",
    ),
    # A deleted account's timeline and lists leave Redis.
    "chirp.timeline.cache.xǁTimelineCacheǁforget_user": (
        *TIMELINE,
        "tests/accounts/test_deletion.py",
    ),
    # The home statement as EXPLAINed: the plan tests read it through this.
    "chirp.timeline.service.x_post_ids_query": ("tests/test_query_plans.py",),
    "chirp.posts": POSTS,
    # A deletion is seen where the post was: cached timelines, open streams, attached media.
    "chirp.posts.service.x_delete_post": (
        *POSTS,
        "tests/timeline/test_home_redis.py",
        "tests/timeline/test_post_cache.py",
        "tests/api/test_timelines.py",
        "tests/streaming/",
        "tests/media/test_api.py",
    ),
    # A post may be images alone, without text: the media tests post them. Whether it
    # notifies anyone (a mention, an answer, a quote of someone else) is decided here too.
    "chirp.posts.service.x_create_post": (
        *POSTS,
        "tests/media/test_api.py",
        "tests/notifications/test_created.py",
    ),
    # A post's jobs tell open streams and notify whom it mentions or answers.
    "chirp.posts.service.x__store": (
        *POSTS,
        "tests/streaming/test_delivery.py",
        "tests/notifications/test_created.py",
    ),
    "chirp.posts.service.x__store_direct": (*POSTS, "tests/streaming/test_delivery.py"),
    # A user's posts are read on their profile (its media tab too) and, for the home
    # timelines of their followers, by the timeline's rebuilds and merges.
    "chirp.posts.service.x_by_author": (*POSTS, *PROFILES),
    "chirp.posts.service.x_by_author_query": (*POSTS, *PROFILES, *AUTHOR_LISTS),
    "chirp.posts.service.x_recent_ids": (*POSTS, *AUTHOR_LISTS),
    "chirp.follows": (
        "tests/follows/",
        "tests/api/test_accounts.py",
        "tests/web/test_user_pages.py",
        "tests/timeline/test_follow_then_read.py",
        # An unfollow's job takes the posts out of the cached home timeline.
        "tests/timeline/test_home_redis.py",
        # A follow's job tells the follower's open streams to carry the followee's posts.
        "tests/streaming/test_api.py",
    ),
    # A revoked token ends its streams: that is the revocation's effect, tested there.
    "chirp.oauth": (
        "tests/oauth/",
        "tests/api/test_public_reads_scopes.py",
        "tests/streaming/test_access.py",
    ),
    "chirp.ratelimit": ("tests/ratelimit/", "tests/auth/", "tests/accounts/test_password_reset.py"),
    # A post's job is recorded by an INSERT inside the post's own WITH statement.
    "chirp.jobs": ("tests/jobs/", "tests/posts/test_service.py"),
}


def focus_of(function: str) -> tuple[str, ...] | None:
    """The test paths for a mangled function name, or None to keep all its tests."""
    matches = [p for p in FOCUS if function == p or function.startswith(p + ".")]
    return FOCUS[max(matches, key=len)] if matches else None


def narrow(tests_by_function: dict[str, set[str]]) -> None:
    """Keep, for each function, only the tests of its own domain (in place)."""
    for function, tests in tests_by_function.items():
        paths = focus_of(function)
        if paths is not None:
            tests_by_function[function] = {t for t in tests if t.startswith(paths)}


def modules_reached(names: list[str]) -> list[str]:
    """The FOCUS modules that the mutant names or patterns given to ``mutmut run`` fall in."""
    wanted = [n.rstrip("*") for n in names if n.startswith("chirp.")] or [""]
    return [m for m in FOCUS if any(w.startswith(m) or m.startswith(w) for w in wanted)]


def focus_files(modules: list[str]) -> list[str]:
    """The test files and folders of these modules' focus, as pytest arguments."""
    found: set[str] = set()
    for module in modules:
        for path in FOCUS[module]:
            found.update(glob.glob(path + "*") if not path.endswith(("/", ".py")) else [path])
    return sorted(found)


def main() -> None:
    """Run ``mutmut run`` with the arguments given, narrowing each function's tests."""
    collect = mutmut_main.collect_or_load_stats
    trace = mutmut_main.run_stats_collection
    restat = focus_files(modules_reached(sys.argv[1:]))

    def collect_then_narrow(runner: Any, *args: Any, **kwargs: Any) -> None:
        traced: list[bool] = []

        def trace_focus(runner: Any, tests: Any = None) -> None:
            # mutmut traces the whole suite on a first run, and on later runs the tests it
            # has not traced yet: only the focus tests are kept, so only those are traced.
            traced.append(True)
            trace(runner, tests=restat)

        mutmut_main.run_stats_collection = trace_focus
        try:
            collect(runner, *args, **kwargs)
        finally:
            mutmut_main.run_stats_collection = trace
        if not traced:
            # mutmut records which tests reach a function in its first run, then only for
            # tests added since: a function added or renamed later would be tried against
            # the new tests alone. Recording again what the focus tests reach costs one
            # pass of them.
            trace(runner, tests=restat)
        narrow(state().tests_by_mangled_function_name)

    mutmut_main.collect_or_load_stats = collect_then_narrow
    sys.argv = ["mutmut", "run", *sys.argv[1:]]
    mutmut_main.cli()


if __name__ == "__main__":
    main()
