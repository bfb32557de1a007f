"""ui: the web UI, server-rendered pages mounted in the team server's app (docs/ui.md).

- ``app``: ``mount_ui`` (the routers) and ``with_sessions`` (the session layer), which
  ``gannet.server.app.create_app`` calls
- ``session``: signed session cookies, CSRF tokens, ``UiSessions`` (cookie -> credentials)
- ``pages``: what routers share: the services and caller, the templates, the nav bar,
  CSRF-checked forms, errors shown as pages
- ``routes``: one router per capability (see its map)
- ``plots``: Plotly figures as data (profile charts, monitor time series) that pages embed
- ``dag``: a pipeline's DAG laid out in layers, for an SVG
- ``templates``: Jinja2 pages; ``static``: the UI's CSS and JS (Plotly.js is served from
  the installed ``plotly`` package)
"""
