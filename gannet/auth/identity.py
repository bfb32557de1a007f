"""Who is acting, in embedded mode: the operating system's user of this process.

Not ``$USER`` or ``$LOGNAME`` (anyone sets those), and not the ``user`` setting, which
labels runs and may say anything: on one machine the operating system is the only
authority on who someone is. Team mode replaces this with authenticated users.
"""

from __future__ import annotations

import getpass
import os


def os_user() -> str:
    """The name of the operating system's user running this process."""
    try:
        import pwd

        return pwd.getpwuid(os.getuid()).pw_name
    except (ImportError, KeyError):  # Windows, or a uid without a passwd entry
        return getpass.getuser()


def owner_of(path: str) -> str | None:
    """The operating system's user owning ``path`` (None where that cannot be told)."""
    try:
        import pwd

        return pwd.getpwuid(os.stat(path).st_uid).pw_name
    except (ImportError, KeyError, OSError):
        return None
