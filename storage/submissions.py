"""The rows of the intake register: submissions and the files they carry."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from storage.models import Person, Task
from storage.webmodels import StoredFile, Submission


def add(session: Session, row: StoredFile | Submission) -> None:
    session.add(row)
    session.flush()


def of_task(session: Session, task_id: int) -> list[tuple[Submission, StoredFile | None,
                                                            Person, Person | None]]:
    """A task's submissions, oldest first, with the file, the sender and who recorded it."""
    sender, recorder = aliased(Person), aliased(Person)
    query = (select(Submission, StoredFile, sender, recorder)
             .join(sender, sender.id == Submission.submitted_by)
             .outerjoin(recorder, recorder.id == Submission.recorded_by)
             .outerjoin(StoredFile, StoredFile.id == Submission.file_id)
             .where(Submission.task_id == task_id).order_by(Submission.id))
    return [(sub, f, s, r) for sub, f, s, r in session.execute(query)]


def file_with_task(session: Session, file_id: int) -> tuple[StoredFile, Task] | None:
    """A stored file and the task whose submission carries it."""
    found = session.execute(select(StoredFile, Task)
                            .join(Submission, Submission.file_id == StoredFile.id)
                            .join(Task, Task.id == Submission.task_id)
                            .where(StoredFile.id == file_id).limit(1)).first()
    return None if found is None else (found[0], found[1])


def register(session: Session, *, year: int | None = None) -> list[tuple[Submission, Task,
                                                                          StoredFile | None,
                                                                          Person,
                                                                          Person | None]]:
    """The intake register: every submission, newest first, with its task and people."""
    sender, recorder = aliased(Person), aliased(Person)
    query = (select(Submission, Task, StoredFile, sender, recorder)
             .join(Task, Task.id == Submission.task_id)
             .join(sender, sender.id == Submission.submitted_by)
             .outerjoin(recorder, recorder.id == Submission.recorded_by)
             .outerjoin(StoredFile, StoredFile.id == Submission.file_id)
             .order_by(Submission.id.desc()))
    if year is not None:
        query = query.where(Task.year == year)
    return [(a, b, c, d, e) for a, b, c, d, e in session.execute(query)]
