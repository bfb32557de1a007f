"""Replies kept for idempotent requests: a retried POST gets the first answer back.

A remote client sends ``Idempotency-Key`` with a POST that would otherwise act twice when
retried (registering a model version, creating a token, rolling back a deployment). The
team server claims the key before the route runs and keeps the answer after it, so a
retry of the same request is answered from here instead of acting again.

- ``tables`` / ``repository``: the ``request_replies`` table and its SQL
- ``service``: ``ReplyStore``: claim a key, keep the answer, let go of a failed attempt
- ``types``: ``Reply``, a claimed key and the answer kept for it
"""
