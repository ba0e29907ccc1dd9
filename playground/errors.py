"""The one exception type for mistakes a user can make (bad flags, bad files, bad formulas)."""


class PlaygroundError(ValueError):
    """A problem the user caused and can fix; the message says what and how, in one line."""
