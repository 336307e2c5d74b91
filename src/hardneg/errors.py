"""The one exception the command line turns into a one-line message and exit status 2."""

__all__ = ["InputError"]


class InputError(ValueError):
    """Bad input the user can fix: a file, row, column or option value.

    The message is a single line that names what is wrong and says what to
    do; the command line prints it on stderr and exits with status 2.

    Examples
    --------
    >>> raise InputError("logs/s1.csv: column 't_ms' not found; pass --time-col with one of: time, ax, ay")
    Traceback (most recent call last):
    ...
    hardneg.errors.InputError: logs/s1.csv: column 't_ms' not found; pass --time-col with one of: time, ax, ay

    ``parameter`` names the library parameter a message is about (its first
    word), so the command line can show the flag the user typed instead.
    """

    def __init__(self, message: str = "", *, parameter: str | None = None):
        super().__init__(message)
        self.parameter = parameter
