"""Speech: speech-to-text with word times, voice acoustics, and the pace, pause and filler metrics."""
