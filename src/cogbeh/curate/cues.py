"""Cue patterns of the offline rule labeler for general math prose (`curate classify --judge rules`).

Written for the way people write math on the web: StackExchange answers, textbooks, forum posts, lecture
notes. Each behavior is a tuple of cue families; each family is one regular expression, the anchors that make
it fast, and a one-line doc that says what it matches and which false friends it leaves out (the README lists
these docs).

Pattern conventions (see `compile_pattern`): patterns run on the *lower-cased* text; a plain space stands for
any run of blanks (line breaks included) and `'` for a straight or curly apostrophe, so write neither inside a
character class. Every quantifier is bounded or on a single character class and none is nested, so matching
is linear in the document length. A behavior is counted once per sentence that shows it (the paper's judge
counts distinct instances), see `cogbeh.curate.rules`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from cogbeh.behaviors import BEHAVIORS


@dataclass(frozen=True)
class CueFamily:
    """A cue family: `name` (an identifier), `doc` (one line for the README), `pattern`, `anchors`, `back`."""

    name: str
    doc: str
    pattern: str
    #: Words (whole tokens of the lower-cased text, split at anything but letters, digits and apostrophes) or
    #: symbols, at least one of which lies inside every match: the pattern only runs near the ones a document
    #: contains, which is what makes the labeler fast.
    anchors: tuple[str, ...]
    #: The furthest a match may start before its anchor (characters).
    back: int = 40


# A few words of a clause without crossing a sentence end (a "." or "!" inside a formula, as in 3.5 or
# $n!$, is no end). Bounded, and its two branches are disjoint, so linear.
CLAUSE = r"(?:[^.!?]|[.!](?=\S))"
GAP = CLAUSE + "{0,60}?"
# Subjects that make a clause the writer's own reasoning.
WE = r"(?:we|i|let's|let us|let me|we'll|i'll|we will|i will|you)"
# The start of a line, a sentence, a heading or a list item (fixed-width look-behinds).
SOS = r"(?:^|(?<=\n)|(?<=[.!?:;)*#]\s)|(?<=[.!?:;)*#]))"
# Something mathematical: a formula, a number, a relation or a math word.
MATH = (r"(?:\$|\\|=|<|>|≤|≥|\d|\^|answer|solution|result|equation|root|value|satisf|inequality|formula"
        r"|identity)")

# What a question is about when it is a math question (the "asks" cue): MATH or a quantity word.
MATHQ = (r"(?:\$|\\|=|<|>|≤|≥|\d|\^|equation|root|value|satisf|inequality|formula|identity"
         r"|minimum|maximum|smallest|largest|least|greatest|probability|area|volume|length|distance|speed"
         r"|velocity|acceleration|deceleration|height|how many|how much|how far|how long|how fast|how high"
         r"|integral|derivative|limit|sum|converge|remainder|divisible|prime|factor|solve|equal|angle"
         r"|radius)")

# What someone checks when marking other people's work ("we'll check all submissions"): not a check of a result.
MARKING = r" (?:all |every |the )?(?:submissions?|entries|entry|papers|homework|emails?)\b"

# What a plan of a math solution sets out to do ("the plan is to find ..."), as opposed to "to keep it".
SOLVE = (r"(?:find|show|prove|compute|calculate|determine|solve|get|bound|reduce|express|write|rewrite|use"
         r"|establish|construct|count|estimate|relate|apply|eliminate|isolate|factor|evaluate|split|break"
         r"|first|combine|differentiate|integrate|substitute|set up|identify|turn|convert|transform|make)")

VERIFICATION: tuple[CueFamily, ...] = (
    CueFamily(
        "check_work",
        "'let's check', 'to check,', 'I checked', 'check that x = 3 ...', 'Check:', 'Checking directly:'; not 'check out', "
        "'check your understanding', 'check that your answers' (instructions to the reader), 'should check "
        "with the department office', '..., and checking the result' (a strategy named in a list).",
        rf"\b(?:{WE} (?:can |could |should |now |quickly |also )?check\b(?! out\b| in\b|{MARKING})"
        r"|(?:i|we) (?:checked|rechecked)\b|to check(?:,|:| (?:this|it|our|my|the (?:answer|result"
        r"|solution)))"
        rf"|(?<!way\sto\s)(?<!how\sto\s)check(?:ing)? (?:that|if|whether|by|again|against)\b(?! your| you)"
        rf"{GAP}{MATH}"
        r"|(?<!double\s)(?<!double-)(?<!someone\s)(?<!anyone\s)(?<!you\s)(?<!and\s)check(?:ing)? (?:our|my|the"
        r" (?:answer|result|solution|work)|this (?:answer|result|solution))\b"
        r"|check(?:ing|ed)? (?:the )?units(?:\s?[:.,]| (?:of|in) (?:the|our|my|this|both|each) (?!final))"
        r"|check(?:ing)? (?:with|on) (?:n|x|a|some|small|the (?:formula|original|known|exact|first|other"
        r"|calculator|definition|small|case))\b|(?:numerical|quick|final|simple) check\b"
        r"|check(?:ing)?(?: directly| again| numerically| by hand| carefully)?:|test(?:ing)?:|as a check\b|checks out\b)",
        ('check', 'checks', 'checked', 'checking', 'recheck', 'rechecked', 'test', 'testing'),
        back=30,
    ),
    CueFamily(
        "double_check",
        "'double-check', 'sanity check', 'cross-checking', 're-check'; not 'can someone double check', "
        "'had not been double-checked', 'runs a sanity check on its arguments' (others or software).",
        r"(?<!someone\s)(?<!anyone\s)(?<!been\s)(?<!she\s)(?<!he\s)(?<!they\s)(?<!the\s)(?<![\"“])"
        r"\b(?:double|sanity|cross|re)(?:-|\s)?check(?!(?:s|ed|ing)?\s(?:on\s(?:its|their|the\sroom)|every))",
        ('check', 'checks', 'checked', 'checking', 'recheck', 'rechecked', 'rechecking', 'doublecheck',
         'crosscheck'),
        back=10,
    ),
    CueFamily(
        "verify",
        "'to verify', 'we verify that', 'to confirm', 'as a verification'; not 'verify your"
        " email/installation', 'Verify that ...' opening an exercise (an instruction), "
        "'referees spent two years verifying' (someone else's work), 'asks you to confirm before overwriting', "
        "'the test lead confirms the result by signing'.",
        rf"\b(?:(?:{WE}|to|can|can be|easily|quickly|now|and|also) verif(?:y|ied|ies)\b(?! your)"
        r"|(?:(?<=[a-z,]\s)verify|verif(?:ies|ying)) (?:that|this|it|our|the (?:answer|result|solution|identity"
        r"|formula))\b"
        r"|(?:as a|for|quick) verification\b|(?<!you\s)(?<!users\s)(?:to|let's|let me|we can|i) confirm\b"
        r"(?! your| before\b)"
        rf"|confirm(?:s|ed|ing)? that\b(?! you){GAP}{MATH}"
        r"|\b(?:which|this|that|it|and it|above|computation|calculation) (?:also |again |indeed )?confirms"
        r" (?:that|this|our|my|the (?:answer|result|value|formula))\b)",
        ('verify', 'verified', 'verifies', 'verifying', 'verification', 'confirm', 'confirms', 'confirmed',
         'confirming'),
        back=12,
    ),
    CueFamily(
        "make_sure",
        "'let's make sure', 'to be sure', 'just to be safe'; not 'make sure you/to' (advice to the reader).",
        r"\b(?:make|making) sure\b(?! (?:to|you|that you|your)\b)|\bto be (?:sure|safe)\b",
        ('sure', 'safe'),
        back=10,
    ),
    CueFamily(
        "substitute_back",
        "'plugging back in', 'substituting x = 3 back into the original equation', 'Substituting back:', 'we "
        "recover the integrand', 'in the limit we recover the classical result'; not 'back-substitute to get y' (solving), 'a student who substitutes her answer back' (a habit, not a check).",
        r"\b(?:plug(?:ging|ged)?|substitut(?:e|ing|ed)|put(?:ting)?|insert(?:ing|ed)?)\b"
        r"[^.!?]{0,40}?\bback\b(?: in\b| into\b|:|,)|\bback into the original\b"
        r"|\b(?:test|testing|tested) (?:each|both|it|them|this|the (?:candidates?|roots?|solutions?)) in the"
        r" original\b"
        r"|\b(?:recover|recovers|gives back|get back|gets back) the (?:original|integrand|given|function"
        r"|classical|known|familiar|expected|usual|standard|newtonian)\b",
        ('back', 'original', 'recover'),
        back=80,
    ),
    CueFamily(
        "agrees",
        "'which agrees with', 'it matches the integrand', 'both methods agree', '..., as expected', 'is "
        "consistent with 1/2', ', matching a_3 = 5', 'which is reassuring', 'and indeed 3 + 7 = 10', '..., so that works', a check mark after a result; not "
        "'as expected value', 'As expected, the market rose', 'consistent with what we see in class', a check "
        "mark in a table.",
        r"\b(?:which|this|that|it|both|these|the two) (?:\w{1,12} )?(?:agrees?|matches|match|coincides?"
        rf"|is consistent)\b|\bconsistent with\b[^.!?]{{0,25}}?{MATH}"
        r"|(?:,|—|;) (?:matching|agreeing with|in agreement with)\b"
        rf"|\bwhich is reassuring\b|{SOS}reassuringly\b|\bas promised\b"
        r"|(?<=[^\n])(?<![.!?:]\s)\bas expected\b(?! value)|\bas (?:required|desired)\b|\bas it (?:should"
        r"|has to|must)(?: be)?\b(?=\s?[.,;)]| for\b)"
        r"|\blhs\s?=\s?rhs\b|\bboth sides (?:are equal|agree|match)"
        r"|\bwhich is (?:indeed )?(?:correct|right)\b|\bsame (?:answer|result|remainder|value)\b(?! twice)"
        # A numeric confirmation after a result ("and indeed $3 + 7 = 10$"; not "and indeed $f'(x) = ...$",
        # which establishes a condition) and a candidate that passes ("..., so that works").
        r"|\b(?:and|so) indeed,? \$?\s?\d|\b(?:so|and) (?:that|this|it) (?:works|checks out)\b"
        r"|\bsatisf(?:y|ies|ied) (?:the original|both|all the given)|(?<=[\d$)}.])\s{0,3}[✓✔☑]",
        ("agree", "agrees", "match", "matches", "coincide", "coincides", "consistent", "expected", "required",
         "desired", "should", "must", "matching", "agreeing", "agreement", "reassuring", "reassuringly",
         "promised", "lhs", "sides", "correct", "right", "same", "satisfy", "satisfies", "satisfied", "indeed",
         "works", "checks",
         "✓", "✔", "☑"),
        back=25,
    ),
    CueFamily(
        "test_case",
        "'let's test this with n = 1', 'try a simple case', 'is that right?', 'does this make sense'; not"
        " 'the "
        "ratio test', 'test for convergence'.",
        rf"\b{WE} (?:can )?test (?:this|it|our|the (?:formula|result|answer|claim))\b"
        r"|\b(?:try|test|check)(?:ed|ing)? (?:it |this |the formula )?(?:on|with) (?:a|the first|some) "
        r"(?:simple|small|special|concrete|few|\w{1,8} small)"
        r"|\b(?:is|was) (?:that|this|it) (?:right|correct|good|reasonable|plausible)\?"
        r"|\b(?:let's|let me|we|i) (?:see|check) (?:if|whether) (?:this|that|it|the formula|our answer|the"
        r" answer) "
        r"(?:works|holds|is right|is correct|makes sense)\b",
        ("test", "simple", "small", "special", "concrete", "few", "?", "works", "holds", "sense", "right",
         "correct"),
        back=50,
    ),
)

VERIFICATION += (
    CueFamily(
        "second_method",
        "a second method or a known value giving the same result: 'both methods give 3/8', 'with the other "
        "method we again get 42', 'compared with the exact value 0.6931', 'the units work out'; not 'both "
        "approaches give students a way in', 'compare it with 1/n^2' (a comparison test).",
        r"\b(?:both|the two|either|each|all three) (?:methods|approaches|ways|routes|computations|calculations"
        r"|formulas) (?:give|gives|yield|yields|lead to|produce) (?:the same (?:answer|result|value|number)|\$"
        r"|-?\d)"
        r"|\b(?:we|i) again (?:get|obtain|find|arrive at) \$?-?\d"
        r"|\bcompar(?:e|ing|ed) (?:this |it |that |our (?:answer|result|value|estimate) |the (?:answer|result"
        r"|estimate|approximation) )?(?:with|to|against) the (?:exact|known|true|tabulated|textbook|published"
        r"|accepted|actual|measured)\b"
        r"|\bunits (?:work out|check out|match|agree|are right|are consistent)\b",
        ('methods', 'approaches', 'ways', 'routes', 'computations', 'calculations', 'formulas', 'again',
         'compare', 'comparing', 'compared', 'units'),
        back=30,
    ),
    CueFamily(
        "plausibility",
        "a result tested against what must be true: 'that can't be right: together they should be faster', "
        "'..., which is reasonable', '..., which makes sense'; not 'that can't be right' with nothing the "
        "result is held against.",
        r"\b(?:that|this|it|which) (?:can't|cannot|couldn't) (?:possibly )?be (?:right|correct)\b"
        rf"(?=\s?[:;,—–-]{GAP}\b(?:should|must|has to|have to|would|is (?:more|less|bigger|smaller)"
        r"|larger|smaller|faster|slower|negative|positive)\b)"
        r"|\b(?:which|that|this|answer|result|value|estimate)(?: \S{1,12})? (?:is|seems|looks) (?:quite |very )?"
        r"(?:reasonable|plausible|sensible|about right)\b"
        r"|\bwhich makes (?:physical )?sense\b",
        ("can't", 'cannot', "couldn't", 'reasonable', 'plausible', 'sensible', 'about', 'sense'),
        back=30,
    ),
)

BACKTRACKING: tuple[CueFamily, ...] = (
    CueFamily(
        "wait",
        "'wait,', 'hold on', 'hmm, no', 'oops', 'scratch that', 'never mind'; not 'wait time', 'can't wait', "
        "'wait until next week'.",
        r"\bwait(?<!n't\swait)(?<!to\swait)(?:[,.!:]| a (?:second|minute|moment)| -| —| –)|\bhold on\b"
        r"|\boops\b|\bwhoops\b|\bscratch that\b|\bnever(?:\s|-)?mind\b|\bhmm+,? (?:no|that)\b",
        ('wait', 'hold', 'oops', 'whoops', 'scratch', 'mind', 'nevermind', 'hmm', 'hmmm', 'hmmmm'),
        back=10,
    ),
    CueFamily(
        "mistake",
        "'I made a mistake', 'my mistake', 'I forgot', 'that's not right', 'this is wrong'; not 'standard "
        "error', 'error term', 'readers who find an error', 'have I made an error?' (a question to others).",
        r"(?<!have\s)(?<!did\s)(?<!if\s)\bi (?:made|make|have made|'ve made) an? (?:\w{1,20} )?(?:mistake|error"
        r"|typo|blunder)"
        r"|\b(?:my|a silly|a careless) (?:mistake|error|typo|bad)\b|\bi (?:see|found|spotted|noticed) (?:the"
        r"|my|an?) "
        r"(?:mistake|error|typo)|\b(?:that|this|which|it)(?:'s| is| was) (?:wrong|incorrect|not right|not"
        r" correct"
        r"|a mistake|obviously (?:wrong|absurd))\b|\bi was wrong\b|\bi (?:messed|screwed) up\b"
        r"|\bi (?:miscalculated|misread|mis-read|forgot to|forgot the)\b|\bcorrection:"
        r"|\bedit: (?:i|oops|sorry|my|fixed|corrected)\b|\b(?:goes|went|is going) the wrong way\b"
        r"|\b(?:can't|cannot|couldn't) (?:possibly )?be (?:right|correct)\b|\bnot quite right\b"
        r"|\bsomething(?:'s| is) (?:off|wrong)\b|\bi (?:now )?reali[sz]ed?\b|\bi should have\b",
        ('mistake', 'error', 'typo', 'blunder', 'bad', 'wrong', 'incorrect', 'right', 'correct', 'absurd',
         'messed', 'screwed', 'miscalculated', 'misread', 'mis', 'forgot', 'edit', 'correction',
         'off', 'realize', 'realized', 'realise', 'realised', 'should'),
        back=40,
    ),
    CueFamily(
        "dead_end",
        "'this doesn't work', 'this approach fails', 'dead end', 'goes nowhere', 'tells us nothing'; not "
        "'leads to a contradiction' (proof by contradiction), 'when it has hit a dead end' (a search algorithm).",
        r"\b(?:this|that|it) (?:doesn't|does not|won't|will not|didn't|did not|wouldn't) (?:really |quite )?"
        r"(?:work|lead anywhere|simplify)\b"
        r"|\b(?:this|that|my|our|the)(?: first| initial| original)? (?:approach|method|idea|attempt|way"
        r"|substitution|route) (?:fails|failed"
        r"|doesn't work|does not work|won't work|is a dead end|leads nowhere|goes nowhere|gets messy|is too"
        r" messy)"
        r"|(?<!it\shas\shit\sa\s)(?<!it\shits\sa\s)\bdead ends?\b|\bworse than before\b|\b(?:not|isn't) (?:getting|going|leading) anywhere\b|\b(?:goes|went|leads|led)"
        r" nowhere\b"
        r"|\b(?:this|that|it) (?:is getting|gets|got) (?:too |very |really )?(?:messy|complicated|ugly"
        r"|hairy)\b"
        r"|\b(?:gave|gives|tells|told) (?:me|us) nothing\b",
        ("doesn't", "won't", "didn't", "wouldn't", 'not', 'fails', 'failed', 'dead', 'worse', 'nowhere', 'messy',
         'anywhere', 'nothing', 'gets', 'got', 'getting'),
        back=30,
    ),
    CueFamily(
        "abandon",
        "'I gave up on it and switched to', 'so I dropped that', 'threw that idea out', 'Instead, complete"
        " the "
        "square', 'use the integral test instead'; not 'instead of' (a plain alternative).",
        r"\b(?:i|we) (?:gave up|give up|abandoned|abandon|scrapped|switched|switch) (?:on|to|that|this|it"
        r"|the)\b"
        r"|\bgave up on\b|\bthrew (?:that|this|it|the)(?: \w{1,12})?(?: idea)? out\b"
        r"|\b(?:i|we|so i|so we) (?:dropped|scrap|scrapped) (?:that|this|it|the)\b|\bback to the start\b"
        r"|\bscrap that\b"
        r"|\binstead,|(?<!to\suse\s)(?<!\$\s)\binstead(?=[.!;])|\bswap the roles\b",
        ('gave', 'give', 'abandoned', 'abandon', 'scrapped', 'scrap', 'switched', 'switch', 'threw',
         'dropped', 'start', 'instead', 'swap'),
        back=15,
    ),
    CueFamily(
        "try_again",
        "'let me try another approach', 'let's try again', 'try a different substitution', 'start over'; not "
        "'try another exercise', 'I tried again after clearing the cache' (not math).",
        rf"\b{WE} (?:should |could |will |need to |have to )?(?:try|attempt) (?:again\b(?! after)|something"
        rf" else\b"
        r"|(?:a )?different (?:approach|method|way|substitution|route|tack|idea)\b"
        r"|another (?:approach|method|way|substitution|route|tack|idea)\b|(?:a|the) new approach)"
        r"|\b(?:start|starting) (?:over|again)\b|\bback to the drawing board\b|\b(?:let me|let's|i'll) redo\b"
        r"|\b(?:let me|let's|i'll|we'll) (?:recompute|recalculate|re-do|rethink|reconsider)\b|\bredoing it\b"
        r"|\bon second thought",
        ('try', 'attempt', 'over', 'again', 'drawing', 'redo', 're', 'recompute', 'recalculate', 'rethink',
         'reconsider', 'redoing', 'thought'),
        back=20,
    ),
    CueFamily(
        "go_back",
        "'going back to the original equation', 'I went back to an idea', 'actually, that is not'; not 'go "
        "back to basics', 'backward compatible', 'go back in time'.",
        r"\b(?:go|going|went|goes|come|coming|came) back to (?:the|our|my|step|equation|where|an?|\()\b"
        r"(?! (?:basics|school|work|class|time)\b)|\bactually,? (?:no|that|this|it's|it is|i|we need|wait)\b"
        r"|\b(?:let's|let me|let us) go back\b",
        ('back', 'actually'),
        back=15,
    ),
)

SUBGOAL_SETTING: tuple[CueFamily, ...] = (
    CueFamily(
        "first_we",
        "'first, we need to find', 'we first compute', 'we'll need the height first', 'to get there I'd "
        "want the time first', 'we'll find x first, then y'; not 'the first term', 'I first tried' (an attempt, not a plan).",
        rf"\bfirst(?:ly)?,? {WE} (?:need|have|must|want|will|should|can|find|compute|calculate|show|prove"
        r"|determine|solve|simplify|rewrite|factor|isolate|write|note|use|'ll|get|evaluate)\b"
        rf"|\b{WE} (?:first|will first|'ll first|need to first|must first|should first) (?:need|have|must"
        r"|find|compute|calculate|show|prove|determine|solve|simplify|rewrite|factor|isolate|write|use|get"
        r"|evaluate"
        r"|establish|identify|introduce|consider|reduce|expand|convert|express|set|define|take|apply"
        r"|differentiate"
        r"|integrate|substitute)\b"
        r"|\b(?:we|i)(?:'ll| will)? need\b[^.!?]{1,60}?\bfirst\b"
        r"|\b(?:we|i|let's|let me|let us)(?:'d|'ll| would| will)? (?:want|find|compute|get|determine|calculate"
        r"|work out|solve for|need)\b"
        r"[^.!?]{1,60}?\bfirst\b(?=\s?[.,:;)]| then\b| and\b| before\b)"
        r"|\b(?:we|i)(?:'ll| will)? need\b[^.!?]{1,60}?\bbefore (?:we|i) can\b"
        rf"|{SOS}first(?:ly)?,? (?:find|compute|calculate|determine|solve|simplify|rewrite|factor|isolate"
        r"|introduce|identify|establish)\b",
        ('first', 'firstly', 'before'),
        back=80,
    ),
    CueFamily(
        "first_then",
        "'Approach: first reduce ..., then add ...', 'easier to first find ..., and then', 'I'll first "
        "row-reduce, then multiply'; not 'I first tried ..., then' (an attempt), 'first we give the "
        "definitions, then we look at' (a lecture agenda), 'First, thanks to everyone; then'; 'before computing "
        "the integral we need the limits'.",
        # "first <verb> ..., then/finally <verb>" in one sentence, opened by the writer (a sentence start,
        # "we/I'll", "to"): a forward plan of aims.
        rf"(?:{SOS}|\b(?:{WE}|to) )first(?:ly)?,? (?!(?:{WE} )?(?:tried|try|thought|noticed|saw|guessed|give"
        r"|look|review|discuss|talk|cover|see|define|study|recall|state|thanks|thank|of|all|the|a|an|and|time"
        rf"|off)\b)(?:{WE} )?[a-z][\w-]{{1,20}} {CLAUSE}{{0,100}}?\b(?:then|finally)\b"
        # The same order said with "before": "before computing the integral we need the limits".
        r"|\bbefore (?:computing|finding|solving|evaluating|integrating|differentiating|we can|i can)\b"
        r"[^.!?]{1,60}?\b(?:we|i)(?:'ll| will)? (?:need|have to|must)\b",
        ('first', 'firstly', 'before'),
        back=12,
    ),
    CueFamily(
        "step_n",
        "'Step 1:', 'step two', 'in three steps', 'the first step is'; each numbered step counts; not 'step "
        "function', 'step size', 'Step 1 of the migration guide'.",
        r"\bstep (?:\d{1,2}|one|two|three|four|five|six)\b(?! of\b)(?!:? (?:install|download|import|open|click"
        r"|run|create|upgrade|update|configure|replace|rename|call|pip|read)\b)|\b(?:the|our|my) (?:first|next|second"
        r"|third"
        r"|last|final) step (?:is|will be)\b",
        ('step',),
        back=12,
    ),
    CueFamily(
        "then_next",
        "'it remains to show', 'next, we need to', 'now we have to find', 'once we have x, we can', 'let's "
        "begin with the velocity', '..., then use it to invert the matrix', 'use"
        " your "
        "answer to part (a) to find'.",
        r"\bit (?:remains|only remains) to\b|\b(?:next|now|then),? (?:we|i) (?:need|have|must|want|will"
        r" need) to\b"
        r"|\bnext,? (?:let's|let us|we'll|i'll|we will|we)\b(?! have\b| get\b| see\b)"
        rf"|\bonce (?:we|i) (?:have|know|find|found|get|compute|determine)\b{GAP}, (?:we|i) (?:can|will"
        rf"|'ll)\b"
        r"|\b(?:use|using) (?:your|the|our) (?:answer|result)s? (?:to|from|of|in) (?:part|step)\b"
        r"|\b(?:we|i|let's|let us|let me|we'll|i'll) (?:start|begin) (?:by|with)\b"
        r"|\bfinally,? (?:we|i) (?:need|have|must) to\b"
        # An intermediate result announced with its use: "..., and then use it to invert the matrix".
        r"|\bthen (?:use|plug|substitute) (?:it|this|that|them|these|the result|the value)s? (?:to|into|in)\b",
        ('remains', 'next', 'now', 'then', 'once', 'part', 'step', 'start',
         'begin', 'finally'),
        back=25,
    ),
    CueFamily(
        "goal_plan",
        "'our goal is to show', 'the plan is to find', 'our first target is', 'to get there, I', 'the key is to "
        "find', 'the first thing to do is', "
        "'Plan:'; not 'the goal of this course', 'our strategy is to keep it', 'my first idea was to' (an "
        "attempt).",
        r"\b(?:our|my|the|the main|the first|the next|first) (?:goal|aim|task|objective|idea) "
        r"(?:here |now |then )?(?:is|will be|was) to\b(?! (?:simply|do better|win)\b)(?<!idea\swas\sto)"
        rf"|\b(?:our|my|the) (?:plan|strategy) (?:here |now |then )?(?:is|will be|was) to {SOLVE}\b"
        r"|\b(?:plan|strategy):"
        rf"|\bthe key (?:step |idea |move )?(?:here |now )?is to {SOLVE}\b"
        r"|\bthe (?:first|next) thing (?:to do |we need |i'll do |we'll do )?is\b"
        r"|\bto do (?:this|that|so),? (?:we|i|let's) (?:first|need|will|must|'ll|can start)\b"
        r"|\b(?:our|my|the) (?:first|next|intermediate|key intermediate) (?:target|goal|object|milestone)\b"
        r"|\bto get there,? (?:we|i|let's)",
        ('goal', 'aim', 'task', 'plan', 'strategy', 'objective', 'idea', 'to do', 'target', 'object',
         'milestone', 'there', 'key', 'thing'),
        back=30,
    ),
    CueFamily(
        "break_down",
        "'we break this into', 'in two parts: (1) ...', 'we proceed in three steps'; not 'break-even', case "
        "splits ('Case 1:' is a proof step, not a subgoal).",
        r"\b(?:break|breaking|split|splitting|divide|dividing|decompose|separate) (?:this|it|the problem"
        r"|everything|the proof|the argument|the (?:sum|integral|region|expression|task|computation))"
        r" (?:down |up )?into\b|\b(?:break|breaking) (?:this|it|the problem) down\b"
        r"|\b(?:in|into|has) (?:two|three|four|five|several|a few) (?:parts|steps|stages|subproblems)\b",
        ('break', 'breaking', 'split', 'splitting', 'divide', 'dividing', 'decompose', 'separate', 'two',
         'three', 'four', 'five', 'several', 'few'),
        back=8,
    ),
)

BACKWARD_CHAINING: tuple[CueFamily, ...] = (
    CueFamily(
        "suffices",
        "'it suffices to show', 'it is enough to prove', 'reduces to showing', 'this will follow if'; the"
        " goal "
        "replaced by a sufficient one.",
        r"\b(?:it )?(?:suffices|suffice|sufficient|enough) to (?:show|prove|check|verify|find|consider"
        r"|have|count|know|bound|establish|rule out|compute)\b|\bsuffices? to \w"
        r"|\breduces to (?:showing|proving|finding|checking)\b|\bequivalent to (?:showing|proving)\b"
        r"|\b(?:it|this) (?:would|will) (?:follow|be enough|suffice) if\b|\bif (?:we|i) can (?:show|prove)\b",
        ('suffices', 'suffice', 'sufficient', 'enough', 'reduces', 'equivalent', 'follow', 'show', 'prove'),
        back=15,
    ),
    CueFamily(
        "work_backwards",
        "'working backwards', 'let's work backward from the answer', 'Work backwards from the end', 'working "
        "back from that final state', 'start from what is required at the top', 'think about how you arrive "
        "at step n', 'working from the end'; not 'backward compatible', "
        "'the author works backwards from ...', 'Week 4: Working backwards' (a topic), 'the heuristic is "
        "working backwards'.",
        rf"\b(?:{WE}|to) (?:can |could |will |'ll |should |now |must )?(?:work|reason|think|go) backwards?\b"
        r"|(?<!\bis\s)(?<!\bof\s)(?<!about\s)(?<!\d:\s)\bworking backwards?\b(?!:)|\b(?:working|reasoning|work) back from\b"
        rf"|{SOS}work backwards?\b|\bstart(?:ing)? (?:from|with) (?:the (?:goal|end|answer|desired|conclusion"
        r"|result we want)|what (?:we|i) (?:want|need|are trying))"
        r"|\bstart(?:ing)? (?:from|with) what (?:is|was) (?:required|needed|wanted)\b"
        r"|\b(?:revers(?:e|ing)|undo(?:ing)?) (?:the|each|these|all the) (?:steps|operations|process)\b"
        r"|\b(?:think about|look at|consider|ask) how (?:you|we|i|one) (?:arrive|end up|finish) (?:at|on|in)\b"
        r"|(?<!\bis\s)(?<!\bof\s)(?<!about\s)(?<!\d:\s)\b(?:working|work|reason(?:ing)?|going|go|thinking)"
        r" (?:back(?:wards?)? )?from the (?:end|goal|target"
        r"|answer|final|desired|last)\b",
        ('backward', 'backwards', 'back', 'start', 'starting', 'reverse', 'reversing', 'undo', 'undoing',
         'arrive', 'end', 'finish', 'goal', 'target', 'answer', 'final', 'desired', 'last'),
        back=20,
    ),
    CueFamily(
        "need_for",
        "'we want X, so we need Y', 'in order to find x we need', 'for n! to end in six zeros we need', 'for "
        "the series to converge, the terms must go to zero', 'we need a_n to be bounded', 'We want h. That "
        "requires v0'.",
        rf"\bin order (?:to|for){GAP},? (?:we|i) (?:need|must|would need|require|first need)\b"
        rf"|\b(?:we|i) (?:want|need) (?:to (?:show|prove|find|get|have|make) )?{GAP},? so (?:we|i) (?:need"
        rf"|must)\b"
        rf"|\bfor {CLAUSE}{{1,60}}? to (?:be|hold|equal|exist|converge|work|have|end|reach|satisfy|contain)\b"
        rf"{GAP}(?:,? (?:we|i) (?:need|must|require)| (?:must|has\x20to|have\x20to|needs? to) (?:be|not"
        r"|exceed|equal|satisfy|hold|have|go|vanish|divide|cancel)\b)"
        rf"|\bto (?:get|find|obtain|make|reach|have) {GAP}, (?:we|i) (?:need|must|would need)\b"
        rf"|\b(?:we|i) need {CLAUSE}{{1,40}}? to (?:be|have|contain|equal|satisfy|hold|divide|end|reach"
        rf"|exceed|vanish|cancel|converge|match|agree)\b"
        r"|\b(?:we|i) want [^.!?]{1,60}?[.;] (?:that|this|which) (?:requires|needs|means we need)\b",
        ('order', 'need', 'must', 'require', 'requires', 'needs', 'means', 'has to', 'have to'),
        back=140,
    ),
    CueFamily(
        "requirement",
        "a goal turned into a requirement in one sentence, anchored where it starts: 'to find the area we need "
        "the radius', 'to make it an integer, the denominator has to divide 12', 'we want this product to be "
        "10', '..., so we need R2/(R1+R2) = 0.66', 'the answer has to be even, so the last digit must be', "
        "'our target is 3 l, which means the small jug must hold 2'; not 'so we need to find x' (a forward "
        "step), 'to get a grade, you must submit' (an instruction).",
        # "To <reach a goal> ..., we need / X must": a purpose clause opening a sentence, then a requirement.
        rf"(?:{SOS}|\b(?:and|so|but) )to\x20(?:get|find|obtain|make|reach|have|prove|show) {GAP}(?:,? (?:we|i)"
        rf" (?:need|must|would need)\b|, (?!you\b){CLAUSE}{{1,40}}? (?:must|has\x20to|have\x20to|needs to)"
        r" [a-z])"
        # A requirement derived from a requirement, or from a stated target.
        rf"|\b(?:must|has\x20to|have\x20to|needs?\x20to) {GAP}, (?:so|which means|hence|and so|therefore)"
        rf" {CLAUSE}{{0,40}}?(?:must|has\x20to|have\x20to|needs? to) [a-z]"
        rf"|\b(?:our|the) (?:target|goal|aim) is {GAP}, (?:so|which means|hence|and so) {CLAUSE}{{0,40}}?"
        r"(?:must|has\x20to|have\x20to|needs? to) [a-z]"
        # A goal stated as a wanted value of something.
        rf"|\b(?:we|i) (?:want|would\x20like) {CLAUSE}{{1,40}}? to (?:be|equal|exceed|divide|satisfy|hold)\b"
        # A derived requirement that is a condition or a claim, not a quantity to compute.
        r"|\b(?:so|hence|thus|then|and|which means),? (?:we|i) (?:need|must\x20have|require)\b(?! to (?:find"
        rf"|compute|calculate|solve|know|determine|work|use|get|do)\b){GAP}(?:{MATH}|to (?:show|prove|have"
        r"|check|ensure)\b)",
        ('to get', 'to find', 'to obtain', 'to make', 'to reach', 'to have', 'to prove', 'to show',
         'must', 'has to', 'have to', 'need to', 'needs to', 'target', 'goal', 'aim', 'want', 'would like',
         'need', 'require', 'must have'),
        back=16,
    ),
    CueFamily(
        "reduce_goal",
        "'the claim boils down to', 'the problem reduces to', 'the question becomes whether', 'showing g is "
        "onto amounts to solving', 'that in turn requires', 'we're done once we know', 'I'd be done once', "
        "'that follows once we know', 'it is enough that', 'everything hinges on', 'what we're after is'; not "
        "'reduce to lowest terms', 'the equation reduces to x = 3' (forward simplification), 'the question "
        "becomes more interesting'.",
        r"\bboils? down to\b"
        r"|\b(?:claim|problem|goal|question|task|proof|statement|theorem|everything|it all|whole thing)"
        r" (?:\w{1,12} )?(?:therefore |then |now |thus |so )?(?:reduces|comes down) to\b"
        r"|\b(?:we're|we are|i'm|i am|i'd be|we'd be|we'll be|i'll be) done (?:once|as soon as|if)\b"
        r"|\bfollows (?:once|as soon as)\b"
        r"|\b(?:it is|it's|it would be) (?:enough|sufficient) (?:that|if)\b|\bhinges on\b"
        r"|\bwhat (?:we're|we are|i'm|i am) after\b"
        r"|\b(?:question|problem|goal|task|claim|condition) (?:then |now |thus |therefore )?becomes(?::| whether"
        r"| to (?:show|find|prove)| how| what| which| showing| finding| proving| \$)"
        r"|\bamounts? to (?:showing|proving|solving|finding|checking|asking)\b"
        r"|\b(?:that|which|getting there|reaching (?:it|that)) (?:in turn )?(?:requires|needs)\b",
        ('boils', 'boil', 'reduces', 'comes', 'done', 'follows', 'enough', 'sufficient', 'hinges', 'after',
         'becomes', 'amounts', 'amount', 'requires', 'needs'),
        back=80,
    ),
    CueFamily(
        "assume_goal",
        "'what we need is', 'what we need becomes', 'what must be true for this to hold?', 'what we want to prove is', 'what do we need?', 'suppose the answer is x; then'.",
        r"\bwhat (?:we|i) (?:want|need) to (?:prove|show)(?: is|,)|\bwhat (?:we|i) (?:need|want) (?:is|becomes|reduces to)\b"
        r"|\bwhat (?:must|has to|needs to) (?:be true|hold|happen)\b"
        r"|\bwhat do (?:we|i) need\b|\bsuppose (?:the (?:answer|result) is|we (?:had|have) (?:the|a)"
        r" solution)\b",
        ('what', 'suppose'),
        back=5,
    ),
)

BEHAVIOR_CUES: dict[str, tuple[CueFamily, ...]] = {
    "backtracking": BACKTRACKING,
    "backward_chaining": BACKWARD_CHAINING,
    "subgoal_setting": SUBGOAL_SETTING,
    "verification": VERIFICATION,
}
assert set(BEHAVIOR_CUES) == set(BEHAVIORS)

PROBLEM: tuple[CueFamily, ...] = (
    CueFamily(
        "heading",
        "a 'Problem 2.', 'Exercise:', 'Example 3.4.', 'Claim.', 'Theorem (Cauchy-Schwarz).' heading at a"
        " sentence "
        "start; not 'reproduces the problem.', 'the next question.'.",
        rf"{SOS}(?:problem|exercise|question|example|claim|theorem|proposition|lemma|puzzle|homework|q)\b"
        r"\s?(?:\d{1,3}(?:\.\d{1,3})?)?\s?(?:[:.)(]|\(|#)|\b(?:problem|exercise|homework) \d",
        ('problem', 'exercise', 'question', 'example', 'claim', 'theorem', 'proposition', 'lemma', 'puzzle',
         'homework', 'q'),
        back=5,
    ),
    CueFamily(
        "imperative",
        "'Find', 'Solve', 'Prove that', 'Evaluate', 'Integrate', 'How many' opening a sentence, a heading or"
        " a "
        "list item.",
        rf"{SOS}(?:find|solve|prove|show that|evaluate|compute|calculate|determine|simplify|factor|integrate"
        r"|differentiate|how (?:many|much|far|long|fast|high)|given)\b",
        ('find', 'solve', 'prove', 'show', 'evaluate', 'compute', 'calculate', 'determine', 'simplify',
         'factor', 'integrate', 'differentiate', 'how', 'given'),
        back=5,
    ),
    CueFamily(
        "asks",
        "a question about something mathematical: a sentence ending in '?' after a formula, number or math "
        "word; not 'how do I get LaTeX to display?', 'does this make sense?'.",
        rf"{MATHQ}(?:[^.!?]|\.(?=\S)){{0,120}}\?",
        ('?',),
        back=140,
    ),
    CueFamily(
        "help",
        "'Need help: $\\int x e^x dx$', 'stuck on this limit', a title with a formula ('# Derivative of "
        "$\\sin^2 3x$'); not 'how do I get LaTeX to display?'.",
        rf"\b(?:need help|help with|stuck on|stuck with|struggling with)\b{GAP}{MATH}|^(?:\*\*|#{{1,3}}"
        rf" )[^*$]{{0,100}}\$",
        ('help', 'stuck', 'struggling', '$'),
        back=110,
    ),
)

SOLUTION: tuple[CueFamily, ...] = (
    CueFamily(
        "answer",
        "'Solution:', 'Answer.', 'Proof.', 'the answer is', 'therefore', 'hence', a boxed result, 'QED'/'∎'.",
        rf"{SOS}(?:solution|answer|proof|sol|ans)\s?[:.]|\bthe (?:final )?(?:answer|solution|result) is\b"
        r"|\\boxed|\\(?:square|blacksquare|qed)\b|[∎□■]|\bq\.?e\.?d\b|\b(?:therefore|thus|hence)\b"
        r"|\b(?:simplifies|rearranges|reduces) to\b|\bwe (?:get|obtain|conclude)\b|\b(?:which|this|that) "
        r"(?:gives|yields)\b",
        ('solution', 'answer', 'proof', 'sol', 'ans', 'result', 'boxed', 'square', 'blacksquare', 'qed',
         'q', 'therefore', 'thus', 'hence', 'simplifies', 'rearranges', 'reduces', 'get', 'obtain',
         'conclude', 'gives', 'yields', '∎', '□', '■'),
        back=12,
    ),
    CueFamily(
        "computation",
        "a chain of equalities inside one formula ('= 0.018 / 0.116 = 9/58'); not two separate '=' in the "
        "problem statement ('$m_1 = 3$ kg and $m_2 = 5$').",
        r"=(?:[^=.!?;$]|\.(?=\S)){1,80}?[=≈]",
        ('=',),
        back=90,
    ),
)


def compile_pattern(pattern: str) -> str:
    """Expand the conventions: a space is any run of blanks, `'` a straight or curly apostrophe."""
    return pattern.replace(" ", r"\s+").replace("'", "['’]")


def family_regex(families: tuple[CueFamily, ...], prefix: str = "") -> str:
    """One alternation with a named group per family (`prefix` + name), for a single finditer scan."""
    return "|".join(f"(?P<{prefix}{f.name}>{compile_pattern(f.pattern)})" for f in families)


def _check() -> None:
    """Fail at import on a malformed pattern rather than at the first document."""
    for families in (*BEHAVIOR_CUES.values(), PROBLEM, SOLUTION):
        for family in families:
            re.compile(compile_pattern(family.pattern))


_check()
