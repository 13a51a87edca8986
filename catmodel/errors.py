"""Errors that the command line reports as one line, without a traceback."""

from __future__ import annotations


class CatmodelError(Exception):
    """An error caused by the user's input or settings, not by a bug.

    The command line prints ``str(error)`` on one line and exits with status 2.
    """


class DataError(CatmodelError):
    """Bad trial data, located by file, row and column.

    Parameters
    ----------
    file
        Path of the file (or the folder, pattern or table) the problem was found in.
    row
        1-based line number in that file (the header, when there is one, is line 1), or None
        when the problem is with the file as a whole (it does not exist, cannot be read).
    column
        The column's name, or its 1-based position for files without a header; None when the
        problem is not in one column.
    message
        What is wrong, and where possible what to do about it.
    """

    def __init__(
        self, file: str, row: int | str | None, column: int | str | None, message: str
    ) -> None:
        self.file = str(file)
        self.row = row
        self.column = column
        self.message = message
        where = [self.file]
        if row is not None:
            where.append(f"row {row}")
        if column is not None:
            where.append(f"column {column!s}")
        super().__init__(f"{', '.join(where)}: {message}")


class SettingsError(CatmodelError):
    """An unknown or invalid model setting, parameter name, bound or option value."""
