"""Recordings → SPEC §1 transcripts: decoding (audio), recognition (whisper), homophone correction
(correct), mono role attribution (roles), call metadata (recordings), and one call end to end with its
cache (transcribe). Speech never reads the lexicons: the pipeline passes the words to protect.
"""
