"""Spanish, French, Italian and Portuguese.

Simplifications: a marker that is also an ordinary word counts only when set off on both sides (a comma, a pause
or a sentence edge), so "este, bueno, ..." counts and "en este momento" or "es bueno" never does; a set-off marker
used in its literal sense ("Bueno." as an answer) is then counted too. Spanish "e" ("and" before i-) and
Portuguese "é" ("is") are never hesitations: the patterns need "eh", "em" or a lengthened "éé"; a bare "é" counts
only set off on both sides ("é, eu acho, é, que ...").
"""

from __future__ import annotations

from softskills.models.i18n.text import say
from softskills.models.speech.lexicons import Lexicon
from softskills.models.speech.lexicons import sources as s

SPANISH = Lexicon(
    language="es",
    # Translators: a language, as in "Words are not a unit of pace in Japanese".
    name=say("Spanish"),
    hesitations=r"^(e+h+|e{2,}|e+m+|h+m+|m{2,})$",  # eh, eeh, em, emm, hmm, mmm; never "e" (and)
    hesitation_source=s.VASILESCU_2007,
    particles={("o", "sea"): f"{s.MARTIN_ZORRAQUINO_PORTOLES_1999}; {s.CORTES_1991}"},
    markers={
        ("este",): s.CORTES_1991,
        ("bueno",): s.MARTIN_ZORRAQUINO_PORTOLES_1999,
        ("pues",): s.MARTIN_ZORRAQUINO_PORTOLES_1999,
        ("digamos",): s.CORTES_1991,
        ("vamos", "a", "ver"): s.MARTIN_ZORRAQUINO_PORTOLES_1999,
    },
    hedges={
        p: s.BRIZ_ALBELDA_2013
        for p in (
            ("creo", "que"),
            ("pienso", "que"),
            ("supongo",),
            ("quizás",),
            ("quizá",),
            ("tal", "vez"),
            ("a", "lo", "mejor"),
            ("probablemente",),
            ("más", "o", "menos"),
            ("un", "poco"),
            ("un", "poquito"),
            ("como", "que"),
        )
    },
    function_words=frozenset(
        "el la los las un una unos unas y o pero que de del a al en con por para sin sobre es son fue era ser está "
        "están estar ha han he hay se me te le les lo nos mi tu su sus yo tú él ella nosotros ellos no sí muy más "
        "como cuando donde este esta esto ese esa eso eh o sea pues bueno".split()
    ),
    disfluency_prompt="Eh, bueno, este... o sea, mmm, déjame pensar. Eh, pues, a ver, creo que, em, digamos...",
    spaced=True,
    pace_unit="syllable",
    syllable_rate=7.82,
    syllable_rate_source=s.PELLEGRINO_2011,
)

FRENCH = Lexicon(
    language="fr",
    # Translators: a language, as in "Words are not a unit of pace in Japanese".
    name=say("French"),
    # euh, euuh, heu, hum, hmm, mmm, beuh; never "eu" (had: "il a eu lieu"), which Whisper writes for both.
    hesitations=r"^(e+u+h+|e+u{2,}|h+e+u+h*|h+u+m+|h+m+|m{2,}|b+e+u+h+)$",
    hesitation_source=f"{s.CANDEA_2000}; {s.VASILESCU_2007}",
    particles={},
    markers={
        ("ben",): s.DOSTIE_2004,
        ("bah",): s.DOSTIE_2004,
        ("bon",): s.DOSTIE_2004,
        ("quoi",): s.DOSTIE_2004,
        ("tu", "sais"): s.DOSTIE_2004,
        ("tu", "vois"): s.DOSTIE_2004,
        ("vous", "savez"): s.DOSTIE_2004,
        ("genre",): s.FLEISCHMAN_YAGUELLO_2004,
        ("en", "fait"): s.DOSTIE_2004,
    },
    hedges={
        p: s.KERBRAT_ORECCHIONI_1992
        for p in (
            ("je", "pense"),
            ("je", "crois"),
            ("je", "suppose"),
            ("peut-être",),
            ("peut", "être"),
            ("probablement",),
            ("un", "peu"),
            ("plutôt",),
            ("en", "quelque", "sorte"),
            ("il", "me", "semble"),
            ("disons",),
        )
    },
    function_words=frozenset(
        "le la les l' un une des du de d' et ou mais que qu' qui à au aux en dans sur pour par avec sans ce cet "
        "cette ces c'est est sont était être a ont avoir il elle ils elles je j' tu nous vous on se s' ne n' pas "
        "plus y me m' te lui leur son sa ses mon ma mes ton ta très euh ben bon quoi".split()
    ),
    disfluency_prompt="Euh, ben, je sais pas... bon, euh, en fait, hum, tu vois, genre, euh, je pense que...",
    spaced=True,
    pace_unit="syllable",
    syllable_rate=7.18,
    syllable_rate_source=s.PELLEGRINO_2011,
)

ITALIAN = Lexicon(
    language="it",
    # Translators: a language, as in "Words are not a unit of pace in Japanese".
    name=say("Italian"),
    hesitations=r"^(e+h+m*|e+m+|e{2,}|h+m+|m{2,})$",  # eh, ehm, emm, eee, hmm, mmm; never "e" (and) or "è"
    hesitation_source=s.VASILESCU_2007,
    particles={},
    markers={
        ("cioè",): s.BAZZANELLA_2006,
        ("allora",): s.BAZZANELLA_2006,
        ("diciamo",): s.BAZZANELLA_2006,
        ("insomma",): s.BAZZANELLA_2006,
        ("praticamente",): s.BAZZANELLA_2006,
        ("tipo",): s.VOGHERA_2013,
    },
    hedges={
        p: s.CAFFI_2007
        for p in (
            ("penso", "che"),
            ("credo", "che"),
            ("forse",),
            ("probabilmente",),
            ("magari",),
            ("un", "po'"),
            ("un", "po"),
            ("più", "o", "meno"),
            ("mi", "sembra"),
            ("direi",),
        )
    },
    function_words=frozenset(
        "il lo la i gli le l' un uno una un' e o ma che di del della dei degli delle a al alla ai in nel nella con "
        "per su da dal tra fra è sono era essere ha hanno avere si mi ti ci vi ne non più molto come quando questo "
        "questa quello quella io tu lui lei noi voi loro mio suo ehm cioè allora".split()
    ),
    disfluency_prompt="Ehm, allora, cioè... diciamo, eh, praticamente, mmm, insomma, tipo, ehm, credo che...",
    spaced=True,
    pace_unit="syllable",
    syllable_rate=6.99,
    syllable_rate_source=s.PELLEGRINO_2011,
)

PORTUGUESE = Lexicon(
    language="pt",
    # Translators: a language, as in "Words are not a unit of pace in Japanese".
    name=say("Portuguese"),
    # ahn, ãh, hã, eh, éé, éh, hum, hmm, mmm; never "é" (is) or "e" (and) on its own (see `markers`).
    hesitations=r"^(a+h*n+|ã+h*|h+ã+|e+h+|é{2,}h*|é+h+|h+u+m+|h+m+|m{2,})$",
    hesitation_source=f"{s.NURC_PRETI_1993}; {s.VASILESCU_2007}",
    particles={("né",): s.MARCUSCHI_1989},
    markers={
        ("é",): s.VASILESCU_2007,
        ("tipo",): s.MARCUSCHI_1989,
        ("então",): s.MARCUSCHI_1989,
        ("sabe",): s.MARCUSCHI_1989,
        ("tipo", "assim"): s.MARCUSCHI_1989,
    },
    hedges={
        p: s.BRIZ_ALBELDA_2013
        for p in (
            ("eu", "acho"),
            ("acho", "que"),
            ("talvez",),
            ("provavelmente",),
            ("meio", "que"),
            ("um", "pouco"),
            ("mais", "ou", "menos"),
            ("de", "certa", "forma"),
            ("eu", "diria"),
        )
    },
    function_words=frozenset(
        "o a os as um uma uns umas e ou mas que de do da dos das em no na nos nas por pelo pela para com sem é são "
        "foi era ser estar está tem ter se me te lhe eu você ele ela nós eles elas não sim muito mais como quando "
        "onde este esta isso isto esse essa meu seu sua né tipo então assim".split()
    ),
    disfluency_prompt="Éé, então, tipo assim... ahn, eu acho que, né, hum, sabe, é, deixa eu pensar...",
    # Pellegrino et al. have no Portuguese: European Spanish and Portuguese speakers do not differ in canonical
    # syllables per second (the unit counted here), so Spanish's rate is used (Brazilian read speech: 4.8-6.6
    # pronounced syllables/s by dialect, Meireles & Gambarini 2012, after Portuguese's vowel elisions).
    spaced=True,
    pace_unit="syllable",
    syllable_rate=7.82,
    syllable_rate_source=f"{s.PELLEGRINO_2011} (Spanish); {s.VOIGT_SCHUPPERT_2013}; {s.MEIRELES_GAMBARINI_2012}",
)

LEXICONS = (SPANISH, FRENCH, ITALIAN, PORTUGUESE)
