"""alerts: rules over monitor outputs, their state, and where pages go.

- ``rules``: the YAML rules file - ``Condition`` (``drift.share > 0.3 for 2 windows``,
  parsed without eval), ``Rule``, ``parse_rules``
- ``notifiers``: the extension point - ``Notifier``, ``NOTIFIERS`` (webhook, email, log;
  plugins add theirs through the ``gannet.notifiers`` entry points), ``deliver`` with
  retries and backoff
- ``service``: ``AlertService`` - apply rules, judge reports, de-duplicate and rate-limit
  pages, silences, history
"""
