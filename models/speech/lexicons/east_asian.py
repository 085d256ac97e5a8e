"""Japanese and Mandarin Chinese: written without spaces, so their tokens come from a morphological analyser
(models/speech/tokens.py) and pace is counted in morae (Japanese, from the analyser's kana reading) or syllables
(Chinese: one per Han character). A filler spelled over several analyser tokens (えー + と) is one token again.

Simplifications: the demonstratives あの/その and 那个/这个 and the particle 啊 count as fillers only when set off on
both sides ("あの、" at a clause start, "那个，"), not inside a phrase (あの人, 那个问题, 好啊); lengthened forms
(あのー, そのー) always count. まあ counts set off, まー always. あー counts set off only: Whisper writes the word ああ
("like that", ああして) as あー too. ええ/うん (yes) and 哦 (oh) are answers, not fillers.
"""

from __future__ import annotations

from softskills.models.i18n.text import say
from softskills.models.speech.lexicons import Lexicon
from softskills.models.speech.lexicons import sources as s

JAPANESE = Lexicon(
    language="ja",
    # Translators: a language, as in "Words are not a unit of pace in Japanese".
    name=say("Japanese"),
    hesitations=r"^(え[ーぇ]*っ?と[ーお]*|ええと|えー+|あのー+|あのう|そのー+|うー+ん?|んー+|まー+|なんかー+)$",
    hesitation_source=f"{s.CSJ_2004}; {s.WATANABE_2009}",
    particles={},
    markers={
        ("あの",): s.WATANABE_2009,
        ("その",): s.WATANABE_2009,
        ("まあ",): s.CSJ_2004,
        ("なんか",): s.CSJ_2004,
        ("あー",): s.CSJ_2004,
    },
    hedges={
        p: s.MAYNARD_1993
        for p in (
            ("と", "思う"),
            ("と", "思い"),
            ("と", "思っ"),
            ("か", "も", "しれ"),
            ("かも", "しれ"),
            ("多分",),
            ("たぶん",),
            ("おそらく",),
            ("恐らく",),
            ("ちょっと",),
            ("みたい",),
            ("気", "が", "する"),
        )
    },
    function_words=frozenset(
        "は が を に で と も の へ から まで より や か ね よ な ので けど けれど です ます まし でし た だ て で し "
        "い いる ある する ない れる られる この その あの こと もの それ これ".split()
    ),
    disfluency_prompt="えーと、あのー、まあ、そうですね…うーん、なんか、えっと、あの、ちょっと考えますね。",
    # Pellegrino et al. count Japanese in syllables (their 2019 follow-up by the same method compares syllable
    # inventories, Japanese to English 1:11, which morae would not give); pace here is in morae, 1.22 per syllable
    # on the Japanese reference texts of benchmarks/real/languages and the espeak-ng script (298 morae in 244
    # syllables: a long vowel, a diphthong's second vowel, ン and ッ are the second mora of a heavy syllable).
    spaced=False,
    pace_unit="mora",
    syllable_rate=7.84,
    units_per_syllable=1.22,
    syllable_rate_source=f"{s.PELLEGRINO_2011}; {s.COUPE_2019}",
)

CHINESE = Lexicon(
    language="zh",
    # Translators: a language, as in "Words are not a unit of pace in Japanese".
    name=say("Chinese (Mandarin)"),
    hesitations=r"^(嗯+|呃+|额+|唔+|呣+)$",
    hesitation_source=f"{s.ZHAO_JURAFSKY_2005}; {s.VASILESCU_2007}",
    particles={},
    markers={
        ("那个",): s.ZHAO_JURAFSKY_2005,
        ("这个",): s.ZHAO_JURAFSKY_2005,
        ("就是",): s.LIU_2009,
        ("就是说",): s.LIU_2009,
        ("啊",): s.ZHAO_JURAFSKY_2005,
    },
    hedges={
        p: s.HU_CAO_2011
        for p in (
            ("我", "觉得"),
            ("可能",),
            ("也许",),
            ("大概",),
            ("好像",),
            ("有点",),
            ("有点儿",),
            ("或许",),
            ("差不多",),
            ("估计",),
        )
    },
    function_words=frozenset(
        "的 了 是 在 我 你 他 她 它 我们 你们 他们 这 那 这个 那个 和 与 就 也 都 "
        "不 有 很 吧 吗 呢 啊 嗯 一个 个 着 过 "
        "把 被 对 从 到 会 要 能 说 还 又 而 但 但是 所以 因为 然后 如果 就是".split()
    ),
    disfluency_prompt="嗯，那个，就是说……呃，我觉得，嗯，这个，然后呢，啊，怎么说呢。",
    spaced=False,
    pace_unit="syllable",
    syllable_rate=5.18,
    syllable_rate_source=s.PELLEGRINO_2011,
)

LEXICONS = (JAPANESE, CHINESE)
