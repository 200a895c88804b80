"""Names of the jobs that domain changes record; handlers are mapped in ``jobs.registry``."""

POST_CREATED = "post.created"
POST_DELETED = "post.deleted"
FOLLOWED = "follow.created"
UNFOLLOWED = "follow.deleted"
# Notifications: a post that mentions, answers, quotes or reposts someone; a like, a
# reaction or a follow. Recorded only when there is someone to notify.
NOTIFY_POST = "notify.post"
NOTIFY_ACT = "notify.act"
# Data archives: build one, and delete it a week later.
EXPORT_BUILD = "export.build"
EXPORT_EXPIRE = "export.expire"
# Account lifecycle: a mail to send; a deleted account's rows to remove, step by step.
SEND_MAIL = "mail.send"
ACCOUNT_DELETE = "account.delete"
