"""Names of the jobs that domain changes record; handlers are mapped in ``jobs.registry``."""

POST_CREATED = "post.created"
POST_DELETED = "post.deleted"
FOLLOWED = "follow.created"
UNFOLLOWED = "follow.deleted"
