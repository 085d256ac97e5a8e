"""The face: MediaPipe Face Mesh landmarks (server or client) and the gaze, blink, head and smile metrics."""
