"""What a request's `subject` does, the same for the synchronous endpoints, the dashboard's uploads and jobs: before
the analysis, room for the subject is checked and its latest sessions loaded (the interpretation judges progress
against them); after it, the session the interpretation made is stored. Also the subject routes' reads and erasure.
Blocking store calls run in worker threads."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import timedelta

from softskills.config.options import SubjectOptions
from softskills.models.pipeline import Analysis
from softskills.models.progress import SessionRecord
from softskills.subjects.store import StoredSession, SubjectLimits, SubjectStore

logger = logging.getLogger("ray.serve")


@dataclass
class SubjectSessions:
    store: SubjectStore
    options: SubjectOptions

    @property
    def limits(self) -> SubjectLimits:
        o = self.options
        return SubjectLimits(o.max_subjects_per_owner, o.max_sessions_per_subject, timedelta(seconds=o.retention_s))

    async def check_room(self, owner: str, subject: str | None) -> None:
        """TooManySubjects (429) when `subject` would be one subject too many for the owner: before any work."""
        if subject is not None:
            await asyncio.to_thread(self.store.check_room, owner, subject, self.options.max_subjects_per_owner)

    async def earlier(self, owner: str, subject: str | None) -> tuple[SessionRecord, ...] | None:
        """The subject's latest sessions, after its room is checked; None without a subject (stateless)."""
        if subject is None:
            return None
        await self.check_room(owner, subject)
        return tuple(await asyncio.to_thread(self.store.earlier, owner, subject, self.options.history_sessions))

    async def keep(self, owner: str, subject: str | None, analysis: Analysis, source: str) -> StoredSession | None:
        """Stores the session the interpretation made for the subject: its measurements and scores, the transcript
        only when the owner keeps transcripts, never the video. Nothing without a subject or without an
        interpretation (the engine failed: there are no scores to keep). The analysis is done and its answer
        stands: a session that cannot be kept (the database, a subject made one too many meanwhile) is logged with
        its traceback, and None."""
        if subject is None or analysis.interpretation is None or analysis.interpretation.personal is None:
            return None
        try:
            return await asyncio.to_thread(self._keep, owner, subject, analysis, source)
        except Exception as exc:
            logger.error(
                "an analysis (%s) was answered but its subject's session was not kept: %s",
                source,
                type(exc).__name__,
                exc_info=exc,
            )
            return None

    def _keep(self, owner: str, subject: str, analysis: Analysis, source: str) -> StoredSession:
        transcript = analysis.signals.full_transcript
        kept_text = transcript.text if transcript is not None and self.store.keeps_transcripts(owner) else None
        interpretation = analysis.interpretation
        return self.store.add(
            owner,
            subject,
            interpretation.personal.session,
            params_version=interpretation.params_version,
            source=source,
            transcript=kept_text,
            limits=self.limits,
        )
