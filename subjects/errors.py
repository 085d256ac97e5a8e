"""Errors of the subjects API. api/errors.py maps each to its status and `{"detail": ...}` body; `str(error)` is
safe to show to the API user."""


class SubjectError(Exception):
    """Base class."""


class SubjectNotFound(SubjectError):
    """No stored session of this subject for this owner: another owner's subject looks exactly like a missing one."""

    def __init__(self):
        super().__init__("No such subject.")


class InvalidSubject(SubjectError):
    def __init__(self, max_chars: int):
        super().__init__(f"Field 'subject' must be 1 to {max_chars} characters of A-Z, a-z, 0-9, '.', '_' and '-'.")


class TooManySubjects(SubjectError):
    def __init__(self, limit: int):
        super().__init__(
            f"This account already keeps sessions of {limit} subjects (the limit, "
            "subjects.max_subjects_per_owner); delete one (DELETE /api/v1/subjects/{subject}) or send "
            "the request without 'subject'."
        )
        self.limit = limit
