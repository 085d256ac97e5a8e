"""Errors the analysis code raises. api/errors.py maps each to an HTTP status and a `{"detail": ...}` body;
nothing in models/ formats HTTP answers."""


class AnalysisError(Exception):
    """Base class; `str(error)` is safe to show to the API user (no paths, no internals)."""


class InvalidMedia(AnalysisError):
    """The upload is not a decodable video in a supported container (bad bytes, truncated, unsupported)."""


class UnsupportedMediaType(InvalidMedia):
    """The bytes are a recognisable file, but not one of the containers we decode (mp4/mov, webm/mkv, avi)."""


class MediaLimitExceeded(InvalidMedia):
    """The video is decodable but over a configured limit (duration, resolution, decode time)."""


class InvalidLandmarkSamples(AnalysisError):
    """The `mediapipeSamples` field is not valid JSON or not the documented shape."""


class InvalidTranscript(AnalysisError):
    """The provided `transcript` field is over a request limit (words, sentences)."""


class SpeakerNotFound(AnalysisError):
    """The `speaker` field asks for a speaker the recording does not have."""


class StageTimeout(Exception):
    """A model stage did not answer within its timeout (`stage` names it: speech_to_text, voice, face, engine)."""

    def __init__(self, stage: str):
        super().__init__(f"{stage} timed out")
        self.stage = stage
