"""The body: MediaPipe Pose landmarks (server or client) and the framing, posture, gesture and fidget metrics."""
