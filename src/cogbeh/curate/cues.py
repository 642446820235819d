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
        "'let's check', 'to check,', 'I checked', 'check that x = 3 ...', 'Check:'; not 'check out', "
        "'check your understanding', 'check that your answers' (instructions to the reader).",
        rf"\b(?:{WE} (?:can |could |should |now |quickly |also )?check\b(?! out\b| in\b|{MARKING})"
        r"|(?:i|we) (?:checked|rechecked)\b|to check(?:,|:| (?:this|it|our|my|the (?:answer|result"
        r"|solution)))"
        rf"|(?<!way\sto\s)(?<!how\sto\s)check(?:ing)? (?:that|if|whether|by|again|against)\b(?! your| you)"
        rf"{GAP}{MATH}"
        r"|(?<!double\s)(?<!double-)(?<!someone\s)(?<!anyone\s)(?<!you\s)check(?:ing)? (?:our|my|the"
        r" (?:answer|result|solution|work)|this (?:answer|result|solution))\b"
        r"|check(?:ing|ed)? (?:the )?units(?:\s?[:.,]| (?:of|in) (?:the|our|my|this|both|each) (?!final))"
        r"|check(?:ing)? (?:with|on) (?:n|x|a|the|some|small)\b|(?:numerical|quick|final|simple) check\b"
        r"|check(?:ing)?:|test(?:ing)?:|as a check\b|checks out\b)",
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
        " email/installation', "
        "'referees spent two years verifying' (someone else's work), 'asks you to confirm before overwriting', "
        "'the test lead confirms the result by signing'.",
        rf"\b(?:(?:{WE}|to|can|can be|easily|quickly|now|and|also) verif(?:y|ied|ies)\b(?! your)"
        r"|verif(?:y|ies|ying) (?:that|this|it|our|the (?:answer|result|solution|identity|formula))\b"
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
        "recover the integrand'; not 'a student who substitutes her answer back' (a habit, not a check).",
        r"\b(?:plug(?:ging|ged)?|substitut(?:e|ing|ed)|put(?:ting)?|insert(?:ing|ed)?)\b"
        r"[^.!?]{0,40}?\bback\b(?: in\b| into\b|:|,)|\bback into the original\b|\bback-substitut"
        r"|\b(?:test|testing|tested) (?:each|both|it|them|this|the (?:candidates?|roots?|solutions?)) in the"
        r" original\b"
        r"|\b(?:recover|recovers|gives back|get back|gets back) the (?:original|integrand|given|function)\b",
        ('back', 'original', 'recover'),
        back=80,
    ),
    CueFamily(
        "agrees",
        "'which agrees with', 'it matches the integrand', 'both methods agree', '..., as expected', 'is "
        "consistent with 1/2', ', matching a_3 = 5', 'which is reassuring', a check mark after a result; not "
        "'as expected value', 'As expected, the market rose', 'consistent with what we see in class', a check "
        "mark in a table.",
        r"\b(?:which|this|that|it|both|these|the two) (?:\w{1,12} )?(?:agrees?|matches|match|coincides?"
        rf"|is consistent)\b|\bconsistent with\b[^.!?]{{0,25}}?{MATH}"
        r"|(?:,|—|;) (?:matching|agreeing with|in agreement with)\b"
        rf"|\bwhich is reassuring\b|{SOS}reassuringly\b|\bas promised\b"
        r"|(?<=[^\n])(?<![.!?:]\s)\bas expected\b(?! value)|\bas (?:required|desired)\b|\bas it (?:should"
        r"|has to|must)(?: be)?\b(?=\s?[.,;)]| for\b)"
        r"|\blhs\s?=\s?rhs\b|\bboth sides (?:are equal|agree|match)"
        r"|\bwhich is (?:indeed )?(?:correct|right)\b|\bsame (?:answer|result|remainder|value)\b"
        r"|\bsatisf(?:y|ies|ied) (?:the original|both|all the given)|(?<=[\d$)}.])\s{0,3}[✓✔☑]",
        ("agree", "agrees", "match", "matches", "coincide", "coincides", "consistent", "expected", "required",
         "desired", "should", "must", "matching", "agreeing", "agreement", "reassuring", "reassuringly",
         "promised", "lhs", "sides", "correct", "right", "same", "satisfy", "satisfies", "satisfied",
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
        ("test", "simple", "small", "special", "concrete", "few", "?", "works", "holds", "sense"),
        back=50,
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
        "error', 'error term', 'readers who find an error'.",
        r"\bi (?:made|make|have made|'ve made) an? (?:\w{1,20} )?(?:mistake|error|typo|blunder)"
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
        r"|\binstead,|(?<!to\suse\s)\binstead(?=[.!;])|\bswap the roles\b",
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
        "want the time first', 'we need each angle before we can subtract'; not 'the first term', 'I first "
        "tried' (an attempt, not a plan).",
        rf"\bfirst(?:ly)?,? {WE} (?:need|have|must|want|will|should|can|find|compute|calculate|show|prove"
        r"|determine|solve|simplify|rewrite|factor|isolate|write|note|use|'ll|get|evaluate)\b"
        rf"|\b{WE} (?:first|will first|'ll first|need to first|must first|should first) (?:need|have|must"
        r"|find|compute|calculate|show|prove|determine|solve|simplify|rewrite|factor|isolate|write|use|get"
        r"|evaluate"
        r"|establish|identify|introduce|consider|reduce|expand|convert|express|set|define|take|apply"
        r"|differentiate"
        r"|integrate|substitute)\b"
        r"|\b(?:we|i)(?:'ll| will)? need\b[^.!?]{1,60}?\bfirst\b"
        r"|\b(?:we|i|let's|let me|let us)(?:'d| would)? (?:want|find|compute|get|determine|calculate)\b"
        r"[^.!?]{1,60}?\bfirst\b(?=\s?[.,:;)]| then\b| and\b| before\b)"
        r"|\b(?:we|i)(?:'ll| will)? need\b[^.!?]{1,60}?\bbefore (?:we|i) can\b"
        rf"|{SOS}first(?:ly)?,? (?:find|compute|calculate|determine|solve|simplify|rewrite|factor|isolate"
        r"|introduce|identify|establish)\b",
        ('first', 'firstly', 'before'),
        back=80,
    ),
    CueFamily(
        "step_n",
        "'Step 1:', 'step two', 'in three steps', 'the first step is'; each numbered step counts; not 'step "
        "function', 'step size', 'Step 1 of the migration guide'.",
        r"\bstep (?:\d{1,2}|one|two|three|four|five|six)\b(?! of\b)|\b(?:the|our|my) (?:first|next|second"
        r"|third"
        r"|last|final) step (?:is|will be)\b",
        ('step',),
        back=12,
    ),
    CueFamily(
        "then_next",
        "'it remains to show', 'next, we need to', 'now we have to find', 'once we have x, we can', 'use"
        " your "
        "answer to part (a) to find'.",
        r"\bit (?:remains|only remains) to\b|\b(?:next|now|then),? (?:we|i) (?:need|have|must|want|will"
        r" need) to\b"
        r"|\bnext,? (?:let's|let us|we'll|i'll|we will|we)\b(?! have\b| get\b| see\b)"
        rf"|\bonce (?:we|i) (?:have|know|find|found|get|compute|determine)\b{GAP}, (?:we|i) (?:can|will"
        rf"|'ll)\b"
        r"|\b(?:use|using) (?:your|the|our) (?:answer|result)s? (?:to|from|of|in) (?:part|step)\b"
        r"|\b(?:we|i|let's|let us|let me) (?:start|begin) by\b|\bfinally,? (?:we|i) (?:need|have|must) to\b",
        ('remains', 'next', 'now', 'then', 'once', 'part', 'step', 'start',
         'begin', 'finally'),
        back=25,
    ),
    CueFamily(
        "goal_plan",
        "'our goal is to show', 'the plan is to find', 'our first target is', 'to get there, I', "
        "'Plan:'; not 'the goal of this course', 'our strategy is to keep it', 'my first idea was to' (an "
        "attempt).",
        r"\b(?:our|my|the|the main|the first|the next|first) (?:goal|aim|task|objective|idea) "
        r"(?:here |now |then )?(?:is|will be|was) to\b(?! (?:simply|do better|win)\b)(?<!idea\swas\sto)"
        rf"|\b(?:our|my|the) (?:plan|strategy) (?:here |now |then )?(?:is|will be|was) to {SOLVE}\b"
        r"|\b(?:plan|strategy):"
        r"|\bto do (?:this|that|so),? (?:we|i|let's) (?:first|need|will|must|'ll|can start)\b"
        r"|\b(?:our|my|the) (?:first|next|intermediate|key intermediate) (?:target|goal|object|milestone)\b"
        r"|\bto get there,? (?:we|i|let's)",
        ('goal', 'aim', 'task', 'plan', 'strategy', 'objective', 'idea', 'to do', 'target', 'object',
         'milestone', 'there'),
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
        r"|have)\b"
        r"|\breduces to (?:showing|proving|finding|checking)\b|\bequivalent to (?:showing|proving)\b"
        r"|\b(?:it|this) (?:would|will) (?:follow|be enough|suffice) if\b|\bif (?:we|i) can (?:show|prove)\b",
        ('suffices', 'suffice', 'sufficient', 'enough', 'reduces', 'equivalent', 'follow', 'show', 'prove'),
        back=15,
    ),
    CueFamily(
        "work_backwards",
        "'working backwards', 'let's work backward from the answer', 'Work backwards from the end', 'working "
        "back from that final state', 'start from what is required at the top'; not 'backward compatible', "
        "'the author works backwards from ...', 'Week 4: Working backwards' (a topic), 'the heuristic is "
        "working backwards'.",
        rf"\b(?:{WE}|to) (?:can |could |will |'ll |should |now |must )?(?:work|reason|think|go) backwards?\b"
        r"|(?<!\bis\s)(?<!\bof\s)(?<!about\s)(?<!\d:\s)\bworking backwards?\b(?!:)|\b(?:working|reasoning|work) back from\b"
        rf"|{SOS}work backwards?\b|\bstart(?:ing)? (?:from|with) (?:the (?:goal|end|answer|desired|conclusion"
        r"|result we want)|what (?:we|i) (?:want|need|are trying))"
        r"|\bstart(?:ing)? (?:from|with) what (?:is|was) (?:required|needed|wanted)\b"
        r"|\b(?:revers(?:e|ing)|undo(?:ing)?) (?:the|each|these|all the) (?:steps|operations|process)\b",
        ('backward', 'backwards', 'back', 'start', 'starting', 'reverse', 'reversing', 'undo', 'undoing'),
        back=20,
    ),
    CueFamily(
        "need_for",
        "'we want X, so we need Y', 'in order to find x we need', 'for n! to end in six zeros we need', 'we "
        "need a_n to be bounded', 'We want h. That requires v0'.",
        rf"\bin order (?:to|for){GAP},? (?:we|i) (?:need|must|would need|require|first need)\b"
        rf"|\b(?:we|i) (?:want|need) (?:to (?:show|prove|find|get|have|make) )?{GAP},? so (?:we|i) (?:need"
        rf"|must)\b"
        rf"|\bfor {CLAUSE}{{1,60}}? to (?:be|hold|equal|exist|converge|work|have|end|reach|satisfy|contain)\b"
        rf"{GAP}(?:,? (?:we|i) (?:need|must|require)| must (?:be|not|exceed|equal|satisfy|hold|have))\b"
        rf"|\bto (?:get|find|obtain|make|reach|have) {GAP}, (?:we|i) (?:need|must|would need)\b"
        rf"|\b(?:we|i) need {CLAUSE}{{1,40}}? to (?:be|have|contain|equal|satisfy|hold|divide|end|reach"
        rf"|exceed)\b"
        r"|\b(?:we|i) want [^.!?]{1,60}?[.;] (?:that|this|which) (?:requires|needs|means we need)\b",
        ('order', 'need', 'must', 'require', 'requires', 'needs', 'means'),
        back=140,
    ),
    CueFamily(
        "reduce_goal",
        "'the claim boils down to', 'the problem reduces to', 'we're done once we know', 'I'd be done once', "
        "'that follows once we know', 'it is enough that', 'everything hinges on', 'what we're after is'; not "
        "'reduce to lowest terms', 'the equation reduces to x = 3' (forward simplification).",
        r"\bboils? down to\b"
        r"|\b(?:claim|problem|goal|question|task|proof|statement|theorem|everything|it all|whole thing)"
        r" (?:\w{1,12} )?(?:therefore |then |now |thus |so )?(?:reduces|comes down) to\b"
        r"|\b(?:we're|we are|i'm|i am|i'd be|we'd be|we'll be|i'll be) done (?:once|as soon as|if)\b"
        r"|\bfollows (?:once|as soon as)\b"
        r"|\b(?:it is|it's|it would be) (?:enough|sufficient) (?:that|if)\b|\bhinges on\b"
        r"|\bwhat (?:we're|we are|i'm|i am) after\b",
        ('boils', 'boil', 'reduces', 'comes', 'done', 'follows', 'enough', 'sufficient', 'hinges', 'after'),
        back=80,
    ),
    CueFamily(
        "assume_goal",
        "'what we need is', 'what we want to prove is', 'what do we need?', 'suppose the answer is x; then'.",
        r"\bwhat (?:we|i) (?:want|need) to (?:prove|show)(?: is|,)|\bwhat (?:we|i) (?:need|want) is\b"
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
