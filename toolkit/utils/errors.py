"""The toolkit's user-facing error type.

Library code raises ``ToolkitError`` with a message that names the file, the line or key,
what was expected and what to do; the CLI prints it without a traceback and exits 1.
"""


class ToolkitError(Exception):
    """A problem with the user's input or set-up, explained in the message."""
