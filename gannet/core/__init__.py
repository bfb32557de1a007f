"""Shared primitives every layer may use; imports nothing else from gannet.

- ``settings``: the one settings object and its precedence rules
- ``credentials_file``: the API tokens ``gannet login`` saved, one per team server
- ``ids``: sortable unique ids
- ``errors``: the ``GannetError`` family (what is wrong, and what to do)
- ``digests``: blake3 content digests
- ``pagination``: opaque page tokens
- ``clock``: wall-clock milliseconds
- ``durations``: durations as people type them (``30m``, ``1d``)
- ``version``: Gannet's version, readable from any layer
- ``lazy``: package exports imported on first use
- ``actor``: who a server request acts for, and the permission checks on it
- ``wire``: dataclasses to JSON and back, for the REST API and the remote SDK
"""
