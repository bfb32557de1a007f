"""server: the control plane, ``gannet server`` - the services over HTTP to many users.

- ``app``: ``create_app(services)``, FastAPI wrapped by the middleware and metrics
- ``deps``: what routes are given (services, the caller) and ``answer``
- ``errors``: every error in the one JSON envelope
- ``middleware``: request ids, the body limit, authentication
- ``metrics``: Prometheus request metrics
- ``runner``: the pre-fork workers on one socket (TCP_NODELAY)
- ``request_stream``: a request body as a blocking stream, for uploads
- ``routes``: one router per capability
"""
