"""Decoding untrusted uploads: container sniffing, audio and sampled frames under limits."""
