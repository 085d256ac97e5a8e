"""English and German."""

from __future__ import annotations

from softskills.models.i18n.text import say
from softskills.models.speech.lexicons import Lexicon
from softskills.models.speech.lexicons import sources as s

# Whisper was trained on transcripts that mostly omit disfluencies, so it drops "um"/"uh" unless the prompt
# shows them. On 10 espeak sentences with 11 um/uh this prompt raised recall from 2/11 to 9/11.
DISFLUENT_PROMPT = "Umm, let me think like, hmm... Okay, here's what I'm, like, thinking. Uh, so, you know..."

_EN_HEDGES = (
    ("i", "think"),
    ("i", "guess"),
    ("i", "suppose"),
    ("i", "believe"),
    ("i", "feel", "like"),
    ("kind", "of"),
    ("sort", "of"),
    ("a", "little", "bit"),
    ("maybe",),
    ("perhaps",),
    ("probably",),
    ("possibly",),
    ("somewhat",),
    ("just",),
)

ENGLISH = Lexicon(
    language="en",
    # Translators: a language, as in "Words are not a unit of pace in Japanese".
    name=say("English"),
    # Always fillers, in any context, whatever the spelling length ("ummm", "uhhh", "hmmm"). The context rules
    # for "like", "so", "you know", "I mean", "basically", ... are in models/speech/metrics.py.
    hesitations=r"^(u+m+|u+h+m*|e+r+m*|a+h+|h+m+|m{2,})$",
    hesitation_source=s.CLARK_FOX_TREE_2002,
    particles={},
    markers={},
    hedges={p: s.LAKOFF_1973 for p in _EN_HEDGES},
    function_words=frozenset(
        "a an and are as at be but by do for from had has have he her his i if in into is it its me my no not of "
        "on or our she so than that the their them then there these they this those to too up us was we were what "
        "when which who will with would you your um uh like just".split()
    ),
    disfluency_prompt=DISFLUENT_PROMPT,
    spaced=True,
    pace_unit="syllable",
    syllable_rate=6.19,
    syllable_rate_source=s.PELLEGRINO_2011,
)

GERMAN = Lexicon(
    language="de",
    # Translators: a language, as in "Words are not a unit of pace in Japanese".
    name=say("German"),
    # äh, ähm, äm, öh, öhm, ehm, hm, mhm-like hums; never "um" (a preposition) or "er" (he).
    hesitations=r"^(ä+h*m*|ö+h*m*|e+h+m+|h+m+|m{2,})$",
    hesitation_source=f"{s.GAT2_2009}; {s.VASILESCU_2007}",
    particles={},
    markers={
        ("also",): s.AUER_GUNTHNER_2005,
        ("na", "ja"): s.AUER_GUNTHNER_2005,
        ("naja",): s.AUER_GUNTHNER_2005,
        ("sozusagen",): s.CLEMEN_1997,
        ("quasi",): s.CLEMEN_1997,
    },
    hedges={
        p: s.CLEMEN_1997
        for p in (
            ("ich", "glaube"),
            ("ich", "denke"),
            ("ich", "meine"),
            ("vielleicht",),
            ("wahrscheinlich",),
            ("eventuell",),
            ("irgendwie",),
            ("ein", "bisschen"),
            ("ein", "wenig"),
            ("eher",),
            ("gewissermaßen",),
        )
    },
    function_words=frozenset(
        "der die das den dem des ein eine einen einem einer eines und oder aber als wie in im an am auf aus bei mit "
        "nach von vor zu zum zur für um durch über unter ist sind war waren bin bist sein hat haben hatte wird "
        "werden es er sie wir ihr ich du man sich nicht kein keine so dass wenn auch noch schon nur da dann "
        "ja".split()
    ),
    disfluency_prompt="Ähm, also, ich denke mal... äh, sozusagen, hm, weißt du, ähm, na ja, wie soll ich sagen...",
    spaced=True,
    pace_unit="syllable",
    syllable_rate=5.97,
    syllable_rate_source=s.PELLEGRINO_2011,
)

LEXICONS = (ENGLISH, GERMAN)
