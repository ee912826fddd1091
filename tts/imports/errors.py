"""What the import's backends (row by row, set-based) tell the rules that drive them."""


class AlreadyCase(Exception):
    """A case row for someone who has a current case (`cases.services.current_case`, or an earlier row of the
    same file): it is reported, not logged again, and the file's contacts of it join that case (`case`: the
    backend's own record of it)."""

    def __init__(self, case) -> None:
        super().__init__("already a case")
        self.case = case
