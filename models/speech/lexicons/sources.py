"""The works each lexicon entry is taken from (cited by key in the per-language modules and in
models/interpretation/data/INTERPRETATION.md). Cross-language inventories first, then one block per language."""

# Cross-language
VASILESCU_2007 = (
    "Vasilescu, Nemoto & Adda-Decker (2007), 'Vocalic hesitations vs vocalic systems: a cross-language "
    "comparison', Proc. 16th ICPhS, Saarbrücken: the filled-pause vowels of English, French, German, "
    "Italian, Spanish, Portuguese, Mandarin and Arabic broadcast corpora"
)
CLARK_FOX_TREE_2002 = (
    "Clark & Fox Tree (2002), 'Using uh and um in spontaneous speaking', Cognition 84(1): 73-111 "
    "(fillers as words of their language; English uh/um)"
)
LAKOFF_1973 = "Lakoff (1973), 'Hedges: a study in meaning criteria and the logic of fuzzy concepts', J. Phil. Logic 2"
PELLEGRINO_2011 = (
    "Pellegrino, Coupé & Marsico (2011), 'A cross-language perspective on speech information rate', "
    "Language 87(3): 539-558: mean syllabic rates of read speech (59 speakers, 20 texts per language, "
    "long silences removed)"
)
COUPE_2019 = (
    "Coupé, Oh, Dediu & Pellegrino (2019), 'Different languages, similar encoding efficiency: comparable "
    "information rates across the human communicative niche', Science Advances 5(9): eaaw2594 (17 "
    "languages, the same method; Japanese 8.03 syllables/s)"
)
VOIGT_SCHUPPERT_2013 = (
    "Voigt & Schüppert (2013), 'Articulation rate and syllable reduction in Spanish and "
    "Portuguese': European Spanish and Portuguese speakers do not differ in canonical (written) "
    "syllables per second; Portuguese only drops more of them in pronunciation"
)
MEIRELES_GAMBARINI_2012 = (
    "Meireles & Gambarini (2012), 'Rhythm typology of Brazilian Portuguese dialects', Speech "
    "Prosody 2012: read-speech rates of 4.8-6.6 syllables/s across four Brazilian dialects"
)

# English: the rules in models/speech/metrics.py and models/speech/language.py cite their own sources.
ENGLISH_RULES = "models/speech/metrics.py and models/speech/language.py (module docstrings)"

# Spanish
MARTIN_ZORRAQUINO_PORTOLES_1999 = (
    "Martín Zorraquino & Portolés Lázaro (1999), 'Los marcadores del discurso', in "
    "Bosque & Demonte (eds.), Gramática descriptiva de la lengua española, vol. 3, "
    "ch. 63 (o sea, bueno, pues)"
)
CORTES_1991 = (
    "Cortés Rodríguez (1991), Sobre conectores, expletivos y muletillas en el español hablado, Málaga: "
    "Ágora (este, o sea, digamos as muletillas)"
)
BRIZ_ALBELDA_2013 = (
    "Briz & Albelda (2013), 'Una propuesta teórica y metodológica para el análisis de la atenuación "
    "lingüística en español y portugués', Onomázein 28: 288-319 (attenuating forms: creo que, a lo "
    "mejor, un poco; acho que, talvez)"
)

# French
CANDEA_2000 = (
    "Candea (2000), Contribution à l'étude des pauses silencieuses et des phénomènes dits "
    "'d'hésitation' en français oral spontané, doctoral thesis, Université Paris III (euh)"
)
DOSTIE_2004 = (
    "Dostie (2004), Pragmaticalisation et marqueurs discursifs: analyse sémantique et traitement "
    "lexicographique, Bruxelles: De Boeck-Duculot (ben, bon, tu sais, tu vois, quoi)"
)
FLEISCHMAN_YAGUELLO_2004 = (
    "Fleischman & Yaguello (2004), 'Discourse markers across languages: evidence from "
    "English and French', in Moder & Martinovic-Zic (eds.), Discourse Across Languages and "
    "Cultures, Benjamins (genre as the French 'like')"
)
KERBRAT_ORECCHIONI_1992 = (
    "Kerbrat-Orecchioni (1992), Les interactions verbales, t. II, Paris: Armand Colin "
    "(adoucisseurs: je pense, peut-être, un peu)"
)

# German
GAT2_2009 = (
    "Selting et al. (2009), 'Gesprächsanalytisches Transkriptionssystem 2 (GAT 2)', Gesprächsforschung 10: "
    "353-402 (Verzögerungssignale äh, öh, ähm transcribed as words)"
)
AUER_GUNTHNER_2005 = (
    "Auer & Günthner (2005), 'Die Entstehung von Diskursmarkern im Deutschen - ein Fall von "
    "Grammatikalisierung?', in Leuschner, Mortelmans & De Groodt (eds.), Grammatikalisierung im "
    "Deutschen, de Gruyter (also, na ja as discourse markers)"
)
CLEMEN_1997 = (
    "Clemen (1997), 'The concept of hedging: origins, approaches and definitions', in Markkanen & "
    "Schröder (eds.), Hedging and Discourse, de Gruyter (German Heckenausdrücke: vielleicht, "
    "wahrscheinlich, ich glaube, irgendwie)"
)

# Italian
BAZZANELLA_2006 = (
    "Bazzanella (2006), 'Discourse markers in Italian: towards a compositional meaning', in Fischer "
    "(ed.), Approaches to Discourse Particles, Elsevier: 449-464 (cioè, allora, diciamo, insomma)"
)
VOGHERA_2013 = (
    "Voghera (2013), 'A case study on the relationship between grammatical change and synchronic "
    "variation: the emergence of tipo[-N] in Italian', in Giacalone Ramat, Mauri & Molinelli (eds.), "
    "Synchrony and Diachrony, Benjamins (tipo as a discourse marker)"
)
CAFFI_2007 = "Caffi (2007), Mitigation, Studies in Pragmatics 4, Elsevier (Italian mitigators: forse, credo, un po')"

# Portuguese
MARCUSCHI_1989 = (
    "Marcuschi (1989), 'Marcadores conversacionais do português brasileiro: formas, posições e "
    "funções', in Castilho (org.), Português culto falado no Brasil, Editora da Unicamp (né, então, "
    "assim, sabe, tipo)"
)
NURC_PRETI_1993 = (
    "Preti (org.) (1993), Análise de textos orais, Projeto NURC/SP, normas de transcrição "
    "(hesitações transcribed as ah, eh, ahn, uhn)"
)

# Japanese
CSJ_2004 = (
    "Koiso et al., 『日本語話し言葉コーパス』の転記基準 (Corpus of Spontaneous Japanese transcription "
    "standard, NINJAL 2004): filler tag (F ...) for えー, えーと, えっと, あのー, あの, その, まー, うーん"
)
WATANABE_2009 = (
    "Watanabe (2009), Features and Roles of Filled Pauses in Speech Communication: A corpus-based "
    "study of Japanese and English, Tokyo: Hituzi Syobo (demonstrative fillers あの/その)"
)
MAYNARD_1993 = (
    "Maynard (1993), Discourse Modality: Subjectivity, Emotion and Voice in the Japanese Language, "
    "Benjamins (hedging with と思う, かもしれない, たぶん, ちょっと)"
)

# Mandarin
ZHAO_JURAFSKY_2005 = (
    "Zhao & Jurafsky (2005), 'A preliminary study of Mandarin filled pauses', Proc. DiSS'05, "
    "Aix-en-Provence (呃 e, 嗯 en, and the demonstratives 那个 nage / 这个 zhege as fillers)"
)
LIU_2009 = (
    "Liu (2009), 'Chinese discourse markers in oral speech of mainland Mandarin speakers', Proc. NACCL-21 "
    "(就是, 那个 as markers)"
)
HU_CAO_2011 = (
    "Hu & Cao (2011), 'Hedging and boosting in abstracts of applied linguistics articles: a comparative "
    "study of English- and Chinese-medium journals', J. Pragmatics 43(11): 2795-2809 (可能, 也许, 大概)"
)
